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
  /**
   * `agent`: scrape and remote-write only, no queries, rules or local
   * TSDB (its WAL lives in `dataDir`). Default `server`.
   */
  mode?: "server" | "agent";
  /** Accept remote write on `/api/v1/write` (a center that agents write to). */
  remoteWriteReceiver?: boolean;
}

/**
 * The flags. The lifecycle and admin APIs stay off (no `--web.enable-lifecycle`,
 * no `--web.enable-admin-api`): Prometheus's basic auth has no roles, so
 * with them on the `readonly` user could reload, shut down or delete data.
 */
export function prometheusFlags(paths: PrometheusPaths): string[] {
  // Agent mode refuses the TSDB flags: its WAL is kept until it is sent.
  const storage = paths.mode === "agent"
    ? ["--enable-feature=agent", `--storage.agent.path=${paths.dataDir}`]
    : [
      `--storage.tsdb.path=${paths.dataDir}`,
      `--storage.tsdb.retention.time=${RETENTION.time}`,
      `--storage.tsdb.retention.size=${RETENTION.size}`,
    ];
  return [
    `--config.file=${paths.configFile}`,
    `--web.config.file=${paths.webConfigFile}`,
    ...storage,
    `--web.listen-address=${paths.listenAddress}`,
    ...(paths.remoteWriteReceiver ? ["--web.enable-remote-write-receiver"] : []),
    ...(paths.externalUrl ? [`--web.external-url=${paths.externalUrl}`] : []),
  ];
}

/** Where things are for one Alertmanager. */
export interface AlertmanagerPaths {
  configFile: string;
  dataDir: string;
  listenAddress: string;
  /**
   * Gossip with other Alertmanagers (one cluster deduplicates notifications);
   * when absent, gossip is off: a single instance.
   */
  cluster?: {
    /** `host:port` of this instance's gossip. */
    listenAddress: string;
    /** `host:port` of the others' gossip. */
    peers: string[];
  };
  /** `--web.config.file` (TLS), when it serves HTTPS. */
  webConfigFile?: string;
}

/** Alertmanager's flags; gossip is off (`--cluster.listen-address=`) unless `cluster` is given. */
export function alertmanagerFlags(paths: AlertmanagerPaths): string[] {
  const cluster = paths.cluster === undefined
    ? ["--cluster.listen-address="]
    : [
      `--cluster.listen-address=${paths.cluster.listenAddress}`,
      // Said explicitly: on a loopback or private address Alertmanager cannot guess it.
      `--cluster.advertise-address=${paths.cluster.listenAddress}`,
      ...paths.cluster.peers.map((p) => `--cluster.peer=${p}`),
    ];
  return [
    `--config.file=${paths.configFile}`,
    `--storage.path=${paths.dataDir}`,
    `--web.listen-address=${paths.listenAddress}`,
    ...(paths.webConfigFile ? [`--web.config.file=${paths.webConfigFile}`] : []),
    ...cluster,
    "--data.retention=120h",
  ];
}
