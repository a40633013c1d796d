/**
 * A stack's configuration turned to HTTPS with the local CA: Prometheus's
 * and Alertmanager's web configs get a `tls_server_config` (TLS 1.2 or
 * newer), and every scrape job and the Alertmanager client get `scheme:
 * https` with `tls_config.ca_file`, so nothing of the stack talks plain
 * HTTP and nothing trusts more than the local CA.
 *
 * @example
 * ```ts
 * import { httpsPrometheusConfig, httpsWebConfig } from "./tls_mode.ts";
 * httpsWebConfig({}, { certFile: "secrets/tls/prometheus.crt", keyFile: "secrets/tls/prometheus.key" });
 * // { tls_server_config: { cert_file: "secrets/tls/prometheus.crt", key_file: "secrets/tls/prometheus.key", min_version: "TLS12" } }
 * ```
 * @module
 */

/** A server's certificate and key files, as the web config names them. */
export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
}

/** The web config (`--web.config.file`) with TLS added; `basic_auth_users` and the rest kept. */
export function httpsWebConfig(webConfig: Record<string, unknown>, files: ServerTlsFiles): Record<string, unknown> {
  return { ...webConfig, tls_server_config: { cert_file: files.certFile, key_file: files.keyFile, min_version: "TLS12" } };
}

const overHttps = (entry: Record<string, unknown>, caFile: string) => ({
  ...entry,
  scheme: "https",
  tls_config: { ...(entry.tls_config as Record<string, unknown> | undefined), ca_file: caFile },
});

/** A Prometheus configuration whose scrapes and Alertmanager client all go over HTTPS trusting `caFile`. */
export function httpsPrometheusConfig<C extends { scrape_configs: Record<string, unknown>[]; alerting?: { alertmanagers: Record<string, unknown>[] } }>(
  config: C,
  caFile: string,
): C {
  return {
    ...config,
    scrape_configs: config.scrape_configs.map((job) => overHttps(job, caFile)),
    ...(config.alerting ? { alerting: { ...config.alerting, alertmanagers: config.alerting.alertmanagers.map((am) => overHttps(am, caFile)) } } : {}),
  };
}
