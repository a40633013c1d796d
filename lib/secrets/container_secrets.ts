/**
 * Which service of the Compose stack reads which file of the secrets folder,
 * and as which user.
 *
 * Compose hands file secrets to a container as bind mounts, which keep the
 * host's owner and mode (0600 here, see docker/compose#9648 and
 * moby/moby#40046): a service running as a non-root user could not read
 * them. So one short-lived service, `etl-secrets-init`, receives them all as
 * Compose secrets, running as root, and copies each service's own files into
 * that service's secrets volume, owned by the service's user, mode 0400.
 * Every other service sees only its own credentials.
 *
 * `deploy/compose/docker-compose.yml` mounts what this table says; a test
 * checks the two agree.
 *
 * @example
 * ```ts
 * import { CONTAINER_SECRETS } from "./container_secrets.ts";
 * CONTAINER_SECRETS.prometheus.files;
 * // ["metrics_password", "prometheus_readonly_password", "prometheus-web.yml"]
 * ```
 * @module
 */

/**
 * One service's share of the secrets: where its volume is mounted in the
 * init container (`/secrets-out/<name>`), who owns the files, which files.
 *
 * @example
 * ```ts
 * const share: SecretShare = { uid: 65534, gid: 65534, files: ["receiver_password"] };
 * ```
 */
export interface SecretShare {
  uid: number;
  gid: number;
  files: readonly string[];
}

/** The user of the official Node images (`node`), which our images run as. */
export const NODE_UID = 1000;
/** `nobody`: the user of the official Prometheus and Alertmanager images. */
export const NOBODY_UID = 65534;
/** The user of the official Grafana image (`grafana`, group root). */
export const GRAFANA_UID = 472;

/**
 * The services that read secrets, by the name of their secrets volume
 * (`etl-monitoring-secrets-<name>`).
 *
 * @example
 * ```ts
 * Object.keys(CONTAINER_SECRETS); // ["etl", "prometheus", "alertmanager", "grafana"]
 * ```
 */
export const CONTAINER_SECRETS = {
  // Simulator (metrics and control hashes) and alert receiver (its hash).
  etl: {
    uid: NODE_UID,
    gid: NODE_UID,
    files: ["metrics_password.bcrypt", "control_password.bcrypt", "receiver_password.bcrypt", "ingest_token.sha256"],
  },
  // Scrapes the simulator (metrics), itself (readonly), and checks its users (web config).
  prometheus: {
    uid: NOBODY_UID,
    gid: NOBODY_UID,
    files: ["metrics_password", "prometheus_readonly_password", "prometheus-web.yml"],
  },
  // Signs in to the alert receiver.
  alertmanager: { uid: NOBODY_UID, gid: NOBODY_UID, files: ["receiver_password"] },
  // Its admin password, and the readonly password of its Prometheus data source.
  grafana: { uid: GRAFANA_UID, gid: 0, files: ["grafana_admin_password", "prometheus_readonly_password"] },
} as const satisfies Record<string, SecretShare>;

/**
 * One copy the init container makes.
 *
 * @example
 * ```ts
 * const copy: SecretCopy = {
 *   from: "/run/secrets/receiver_password",
 *   to: "/secrets-out/alertmanager/receiver_password",
 *   uid: 65534, gid: 65534,
 * };
 * ```
 */
export interface SecretCopy {
  from: string;
  to: string;
  uid: number;
  gid: number;
}

/**
 * Every copy to make, from the Compose secrets folder to the volumes.
 *
 * @example
 * ```ts
 * planSecretCopies(CONTAINER_SECRETS, "/run/secrets", "/secrets-out")[0];
 * // { from: "/run/secrets/metrics_password.bcrypt", to: "/secrets-out/etl/metrics_password.bcrypt", uid: 1000, gid: 1000 }
 * ```
 */
export function planSecretCopies(
  shares: Readonly<Record<string, SecretShare>>,
  sourceDir: string,
  outDir: string,
): SecretCopy[] {
  return Object.entries(shares).flatMap(([name, share]) =>
    share.files.map((file) => ({ from: `${sourceDir}/${file}`, to: `${outDir}/${name}/${file}`, uid: share.uid, gid: share.gid }))
  );
}

/**
 * Every file some service needs: the Compose secrets the init service must receive.
 *
 * @example
 * ```ts
 * secretFilesNeeded(CONTAINER_SECRETS).length; // 8
 * ```
 */
export function secretFilesNeeded(shares: Readonly<Record<string, SecretShare>>): string[] {
  return [...new Set(Object.values(shares).flatMap((share) => share.files))].sort();
}

/**
 * A web config (`--web.config.file`) the init container writes in a
 * share's folder in TLS mode: `base` (a file of the share, e.g. the users
 * of prometheus-web.yml; none: an empty config) with a `tls_server_config`
 * naming the share's certificate and key. The names are relative: Prometheus
 * and Alertmanager read them from the web config's own folder.
 *
 * @example
 * ```ts
 * const web: ShareWebConfig = { file: "alertmanager-web.yml", cert: "alertmanager.crt", key: "alertmanager.key" };
 * ```
 */
export interface ShareWebConfig {
  file: string;
  base?: string;
  cert: string;
  key: string;
}

/** A share that may also get a web config written (TLS mode). */
export interface TlsSecretShare extends SecretShare {
  webConfig?: ShareWebConfig;
}

/** The CA certificate every service trusts, as a share's file name. */
export const CA_SHARE_FILE = "ca.crt";

/** A service's certificate and key as a share's file names (flat: `etl-metrics.crt`). */
export function certificateShareFiles(service: string): { cert: string; key: string } {
  return { cert: `${service}.crt`, key: `${service}.key` };
}

const withCertificates = (share: SecretShare, services: readonly string[], webConfig?: ShareWebConfig): TlsSecretShare => ({
  ...share,
  files: [...share.files, CA_SHARE_FILE, ...services.flatMap((s) => Object.values(certificateShareFiles(s)))],
  ...(webConfig ? { webConfig } : {}),
});

/**
 * The web configs of TLS mode: Prometheus's keeps its name (its flags stay
 * those of the plain mode) and its users; Alertmanager's is new.
 */
export const TLS_WEB_CONFIGS = {
  prometheus: { file: "prometheus-web.yml", base: "prometheus-web.yml", ...certificateShareFiles("prometheus") },
  alertmanager: { file: "alertmanager-web.yml", ...certificateShareFiles("alertmanager") },
} as const satisfies Record<string, ShareWebConfig>;

/**
 * The shares in TLS mode (`npm run stack -- up --tls`): each service's
 * credentials as in {@linkcode CONTAINER_SECRETS}, plus the CA certificate
 * and the service's certificate and key; the etl volume serves the
 * simulator, the exporter and the receiver, so it holds the three. Prometheus's
 * web config gets `tls_server_config` added to its users; Alertmanager's is
 * written from nothing.
 *
 * @example
 * ```ts
 * TLS_CONTAINER_SECRETS.alertmanager.files; // ["receiver_password", "ca.crt", "alertmanager.crt", "alertmanager.key"]
 * ```
 */
export const TLS_CONTAINER_SECRETS = {
  etl: withCertificates(CONTAINER_SECRETS.etl, ["etl-simulator", "etl-metrics", "etl-alert-receiver"]),
  prometheus: withCertificates(CONTAINER_SECRETS.prometheus, ["prometheus"], TLS_WEB_CONFIGS.prometheus),
  alertmanager: withCertificates(CONTAINER_SECRETS.alertmanager, ["alertmanager"], TLS_WEB_CONFIGS.alertmanager),
  grafana: withCertificates(CONTAINER_SECRETS.grafana, ["grafana"]),
} as const satisfies Record<keyof typeof CONTAINER_SECRETS, TlsSecretShare>;

/**
 * Where a share's file comes from in the secrets folder `npm run secrets`
 * made: the certificates are in its `tls/` folder, the rest at its top.
 *
 * @example
 * ```ts
 * secretSourcePath("etl-metrics.key"); // "tls/etl-metrics.key"
 * secretSourcePath("ca.crt"); // "ca.crt"
 * ```
 */
export function secretSourcePath(file: string): string {
  return file !== CA_SHARE_FILE && /\.(crt|key)$/.test(file) ? `tls/${file}` : file;
}
