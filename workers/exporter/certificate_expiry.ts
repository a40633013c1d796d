/**
 * The exporter's certificate expiry gauge, read once from the certificate
 * it serves: the server keeps the certificate it started with, so a renewed
 * file counts only after a restart, as it should.
 *
 * @example
 * ```ts
 * import { certificateExpiryMetric } from "./certificate_expiry.ts";
 * processMetrics.push(certificateExpiryMetric(readFileSync("secrets/tls/etl-metrics.crt", "utf8")));
 * ```
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { Metric } from "prom-client";
import { certificateExpiryFamily } from "../../lib/metrics/certificate_family.ts";
import { asMetric } from "../../lib/metrics/family.ts";

/** The gauge for the first certificate of `certPem`. */
export function certificateExpiryMetric(certPem: string): Metric {
  return asMetric(certificateExpiryFamily(Date.parse(new X509Certificate(certPem).validTo) / 1000));
}
