/**
 * The gauge of the certificate a server serves: when it expires, in unix
 * seconds. The exporter serves it in HTTPS mode; `EtlCertificateExpiringSoon`
 * (lib/alerts/certificate_rules.ts) reads it.
 *
 * @example
 * ```ts
 * import { certificateExpiryFamily } from "./certificate_family.ts";
 * certificateExpiryFamily(1_827_698_845).name; // "etl_tls_certificate_expiry_timestamp_seconds"
 * ```
 * @module
 */
import { type Family, gaugeFamily } from "./family.ts";

/** The gauge's name. */
export const CERTIFICATE_EXPIRY_METRIC = "etl_tls_certificate_expiry_timestamp_seconds";

/** The family with one sample, no labels (Prometheus adds job and instance). */
export function certificateExpiryFamily(expiresAtSeconds: number): Family {
  return gaugeFamily(CERTIFICATE_EXPIRY_METRIC, "Unix time at which the TLS certificate this server serves expires.", [{ labels: {}, value: expiresAtSeconds }]);
}
