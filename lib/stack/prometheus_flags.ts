/**
 * The command-line flags Prometheus runs with, in one place for the native
 * stack, the tests and (checked by a test) the Compose file. Retention is a
 * flag, not a configuration setting, in Prometheus 2.x.
 *
 * @example
 * ```ts
 * import { prometheusFlags } from "./prometheus_flags.ts";
 * prometheusFlags({ configFile: "/etc/prometheus/prometheus.yml", webConfigFile: "/run/secrets/web.yml",
 *   dataDir: "/prometheus", listenAddress: "0.0.0.0:9090" });
 * ```
 * @module
 */

/** How long and how much data Prometheus keeps; whichever limit is reached first applies. */
export const RETENTION = { time: "15d", size: "1GB" } as const;

/** Where things are for one Prometheus. */
export interface PrometheusPaths {
  configFile: string;
  webConfigFile: string;
  dataDir: string;
  listenAddress: string;
  /** The URL Prometheus puts in alerts' links; defaults to http://<listenAddress>. */
  externalUrl?: string;
}

/**
 * The flags. The lifecycle and admin APIs stay off (no `--web.enable-lifecycle`,
 * no `--web.enable-admin-api`): Prometheus's basic auth has no roles, so
 * with them on the `readonly` user could reload, shut down or delete data.
 */
export function prometheusFlags(paths: PrometheusPaths): string[] {
  return [
    `--config.file=${paths.configFile}`,
    `--web.config.file=${paths.webConfigFile}`,
    `--storage.tsdb.path=${paths.dataDir}`,
    `--storage.tsdb.retention.time=${RETENTION.time}`,
    `--storage.tsdb.retention.size=${RETENTION.size}`,
    `--web.listen-address=${paths.listenAddress}`,
    ...(paths.externalUrl ? [`--web.external-url=${paths.externalUrl}`] : []),
  ];
}

/** Where things are for one Alertmanager. */
export interface AlertmanagerPaths {
  configFile: string;
  dataDir: string;
  listenAddress: string;
  /** `--web.config.file` (TLS), when it serves HTTPS. */
  webConfigFile?: string;
}

/** Alertmanager's flags; gossip is off (`--cluster.listen-address=`): a single instance. */
export function alertmanagerFlags(paths: AlertmanagerPaths): string[] {
  return [
    `--config.file=${paths.configFile}`,
    `--storage.path=${paths.dataDir}`,
    `--web.listen-address=${paths.listenAddress}`,
    ...(paths.webConfigFile ? [`--web.config.file=${paths.webConfigFile}`] : []),
    "--cluster.listen-address=",
    "--data.retention=120h",
  ];
}
