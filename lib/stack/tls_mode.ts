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
import { parse, stringify } from "yaml";

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

/**
 * A web config's text with `tls_server_config` added (see {@linkcode httpsWebConfig}):
 * `base` is the text of the plain one (its users kept), or undefined for none.
 *
 * @example
 * ```ts
 * httpsWebConfigText(undefined, { certFile: "alertmanager.crt", keyFile: "alertmanager.key" });
 * // "tls_server_config:\n  cert_file: alertmanager.crt\n  key_file: alertmanager.key\n  min_version: TLS12\n"
 * ```
 */
export function httpsWebConfigText(base: string | undefined, files: ServerTlsFiles): string {
  const parsed = base === undefined ? {} : (parse(base) ?? {});
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the web config is not a YAML mapping");
  return stringify(httpsWebConfig(parsed as Record<string, unknown>, files));
}

/** A Grafana data source as provisioning files write it (the fields read here). */
interface ProvisionedDatasource {
  url?: string;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Grafana's provisioned data sources over HTTPS: each `http://` URL becomes
 * `https://`, and Grafana trusts the CA read from `caFile` (`jsonData.tlsAuthWithCACert`,
 * `secureJsonData.tlsCACert` through `$__file{…}`, so the PEM is not copied into the file).
 *
 * @example
 * ```ts
 * httpsGrafanaDatasources({ apiVersion: 1, datasources: [{ url: "http://prometheus:9090" }] }, "/run/secrets/ca.crt").datasources[0];
 * // { url: "https://prometheus:9090", jsonData: { tlsAuthWithCACert: true }, secureJsonData: { tlsCACert: "$__file{/run/secrets/ca.crt}" } }
 * ```
 */
export function httpsGrafanaDatasources<P extends { datasources: ProvisionedDatasource[] }>(provisioning: P, caFile: string): P {
  return {
    ...provisioning,
    datasources: provisioning.datasources.map((d) => ({
      ...d,
      ...(d.url === undefined ? {} : { url: d.url.replace(/^http:\/\//, "https://") }),
      jsonData: { ...d.jsonData, tlsAuthWithCACert: true },
      secureJsonData: { ...d.secureJsonData, tlsCACert: `$__file{${caFile}}` },
    })),
  };
}
