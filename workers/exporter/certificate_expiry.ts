/**
 * The exporter's certificate expiry gauge, read once from the certificate
 * it serves: the server keeps the certificate it started with, so a renewed
 * file counts only after a restart, as it should.
 *
 * @example
 * ```ts
 * import { certificateExpiryOf } from "./certificate_expiry.ts";
 * const family = certificateExpiryOf(readFileSync("secrets/tls/etl-metrics.crt", "utf8"));
 * ```
 * @module
 */
import { X509Certificate } from "node:crypto";
import { certificateExpiryFamily } from "../../lib/metrics/certificate_family.ts";
import type { Family } from "../../lib/metrics/family.ts";

/** The gauge for the first certificate of `certPem`. */
export function certificateExpiryOf(certPem: string): Family {
  return certificateExpiryFamily(Date.parse(new X509Certificate(certPem).validTo) / 1000);
}
