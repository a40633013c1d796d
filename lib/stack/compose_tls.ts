/**
 * The Compose stack over HTTPS (`npm run stack -- up --tls`): the override
 * file `deploy/compose/docker-compose.tls.yml` and the configurations it
 * mounts, all rendered here from the plain mode's sources, with the same
 * functions `npm run stack:local -- --tls` uses (lib/stack/tls_mode.ts).
 * `npm run build:compose-tls` writes them; a test fails when they are stale.
 *
 * What the override changes: `etl-secrets-init` also hands out the CA and
 * each service's certificate and key (lib/secrets/container_secrets.ts
 * `TLS_CONTAINER_SECRETS`) and writes the TLS web configs; our three
 * services get `ETL_TLS_CERT_FILE`/`ETL_TLS_KEY_FILE`; Alertmanager gets
 * `--web.config.file`; Prometheus and Alertmanager read the HTTPS renderings
 * of their configurations; Grafana serves HTTPS and trusts the CA in its
 * data source; every health check asks over HTTPS.
 *
 * @example
 * ```ts
 * import { composeTlsFiles, COMPOSE_TLS_FILE } from "./compose_tls.ts";
 * const files = composeTlsFiles({ prometheusYml, grafanaDatasources });
 * files[COMPOSE_TLS_FILE]; // the override's text
 * ```
 * @module
 */
import { parse, stringify } from "yaml";
import { renderAlertmanagerConfig } from "../alerts/alertmanager_config.ts";
import {
  CA_SHARE_FILE,
  certificateShareFiles,
  CONTAINER_SECRETS,
  secretFilesNeeded,
  secretSourcePath,
  TLS_CONTAINER_SECRETS,
  TLS_WEB_CONFIGS,
} from "../secrets/container_secrets.ts";
import { alertmanagerFlags } from "./prometheus_flags.ts";
import { httpsGrafanaDatasources, httpsPrometheusConfig } from "./tls_mode.ts";

/** The override file, relative to the repository. */
export const COMPOSE_TLS_FILE = "deploy/compose/docker-compose.tls.yml";
/** Prometheus's configuration over HTTPS, mounted over prometheus.yml. */
export const PROMETHEUS_TLS_CONFIG = "prometheus/prometheus.tls.yml";
/** Alertmanager's configuration with the receiver over HTTPS. */
export const ALERTMANAGER_TLS_CONFIG = "prometheus/alertmanager.tls.yml";
/** Grafana's data source over HTTPS with the CA, mounted over the plain one's folder. */
export const GRAFANA_TLS_DATASOURCES = "grafana/provisioning-tls/datasources/prometheus.yml";
/** The plain sources the renderings start from. */
export const PLAIN_SOURCES = { prometheusYml: "prometheus/prometheus.yml", grafanaDatasources: "grafana/provisioning/datasources/prometheus.yml" } as const;

/** Where each service finds its secrets volume (docker-compose.yml mounts them there). */
export const SECRETS_MOUNTS = {
  etl: "/run/secrets",
  prometheus: "/etc/prometheus/secrets",
  alertmanager: "/etc/alertmanager/secrets",
  grafana: "/run/secrets",
} as const satisfies Record<keyof typeof CONTAINER_SECRETS, string>;

/** The variable our images' health check reads: with it, the check asks over HTTPS trusting that CA (deploy/compose/Dockerfile). */
export const HEALTHCHECK_CA_ENV = "ETL_HEALTHCHECK_CA_FILE";

/** Our services in TLS mode, each with its certificate (in the etl volume). */
export const ETL_TLS_SERVICES = ["etl-simulator", "etl-metrics", "etl-alert-receiver"] as const;

/** The secrets the init container gets in TLS mode on top of the plain ones. */
export function tlsOnlySecretFiles(): string[] {
  const plain = new Set(secretFilesNeeded(CONTAINER_SECRETS));
  return secretFilesNeeded(TLS_CONTAINER_SECRETS).filter((f) => !plain.has(f));
}

const SECRETS_DIR = "${ETL_SECRETS_DIR:-../../secrets}";

// busybox's wget (in the Prometheus and Alertmanager images) takes no CA file: it
// checks no certificate. The health checks ask the process over loopback; every
// connection between services checks the CA.
const wgetHttps = (url: string) => ["CMD", "wget", "-q", "-O", "/dev/null", "--no-check-certificate", url];

/** The override as an object: what `docker-compose.tls.yml` says. */
export function composeTlsOverride(): Record<string, unknown> {
  const etlService = (service: (typeof ETL_TLS_SERVICES)[number]) => {
    const files = certificateShareFiles(service);
    return {
      environment: {
        ETL_TLS_CERT_FILE: `${SECRETS_MOUNTS.etl}/${files.cert}`,
        ETL_TLS_KEY_FILE: `${SECRETS_MOUNTS.etl}/${files.key}`,
        [HEALTHCHECK_CA_ENV]: `${SECRETS_MOUNTS.etl}/${CA_SHARE_FILE}`,
      },
    };
  };
  const grafana = certificateShareFiles("grafana");
  return {
    services: {
      "etl-secrets-init": {
        environment: { ETL_SECRETS_TLS: "1" },
        secrets: tlsOnlySecretFiles(),
      },
      "etl-simulator": etlService("etl-simulator"),
      "etl-metrics": {
        ...etlService("etl-metrics"),
        // It serves with its certificate from the start: wait until it is handed out.
        depends_on: { "etl-secrets-init": { condition: "service_completed_successfully" } },
      },
      "etl-alert-receiver": etlService("etl-alert-receiver"),
      alertmanager: {
        command: alertmanagerFlags({
          configFile: "/etc/alertmanager/alertmanager.yml",
          dataDir: "/alertmanager",
          listenAddress: "0.0.0.0:9093",
          webConfigFile: `${SECRETS_MOUNTS.alertmanager}/${TLS_WEB_CONFIGS.alertmanager.file}`,
        }),
        volumes: [`../../${ALERTMANAGER_TLS_CONFIG}:/etc/alertmanager/alertmanager.yml:ro`],
        healthcheck: { test: wgetHttps("https://127.0.0.1:9093/-/healthy") },
      },
      prometheus: {
        volumes: [`../../${PROMETHEUS_TLS_CONFIG}:/etc/prometheus/prometheus.yml:ro`],
        healthcheck: {
          test: [
            "CMD-SHELL",
            `wget -q -O /dev/null --no-check-certificate "https://readonly:$$(cat ${SECRETS_MOUNTS.prometheus}/prometheus_readonly_password)@127.0.0.1:9090/-/healthy"`,
          ],
        },
      },
      grafana: {
        environment: {
          GF_SERVER_PROTOCOL: "https",
          GF_SERVER_CERT_FILE: `${SECRETS_MOUNTS.grafana}/${grafana.cert}`,
          GF_SERVER_CERT_KEY: `${SECRETS_MOUNTS.grafana}/${grafana.key}`,
        },
        volumes: [`../../${GRAFANA_TLS_DATASOURCES.replace(/\/[^/]+$/, "")}:/etc/grafana/provisioning/datasources:ro`],
        healthcheck: { test: wgetHttps("https://127.0.0.1:3000/api/health") },
      },
    },
    secrets: Object.fromEntries(tlsOnlySecretFiles().map((f) => [f, { file: `${SECRETS_DIR}/${secretSourcePath(f)}` }])),
  };
}

const header = (lines: string[]) => lines.map((l) => `# ${l}`.trimEnd()).join("\n") + "\n";

/** The plain files the renderings start from, as text. */
export interface PlainSources {
  prometheusYml: string;
  grafanaDatasources: string;
}

/**
 * Every file of the TLS mode, by path in the repository, rendered from the
 * plain sources.
 */
export function composeTlsFiles(sources: PlainSources): Record<string, string> {
  const generated = "Generated by `npm run build:compose-tls` from lib/stack/compose_tls.ts; do not edit.";
  const override = header([
    "The Compose stack over HTTPS with the local CA of `npm run secrets`: an override of",
    "docker-compose.yml, selected by `npm run stack -- up --tls`. By hand:",
    "  npm run secrets",
    "  docker compose -f deploy/compose/docker-compose.yml -f deploy/compose/docker-compose.tls.yml up -d --build",
    "Then only HTTPS answers on every port: curl --cacert secrets/ca.crt https://127.0.0.1:8083/health",
    generated,
  ]) + "\n" + stringify(composeTlsOverride(), { lineWidth: 0 });

  const prometheus = httpsPrometheusConfig(parse(sources.prometheusYml), `secrets/${CA_SHARE_FILE}`);
  const prometheusText = header([
    "Prometheus over HTTPS (the Compose stack's TLS mode): prometheus.yml with every",
    "scrape and the Alertmanager client on https, trusting only the local CA.",
    generated,
  ]) + "\n" + stringify(prometheus, { lineWidth: 0 });

  const alertmanager = renderAlertmanagerConfig({
    receiverUrl: "https://etl-alert-receiver:9095/webhook",
    receiverPasswordFile: "secrets/receiver_password",
    receiverCaFile: `secrets/${CA_SHARE_FILE}`,
  }).replace(
    "by commands/build/rules.ts; do not edit. This is the Compose rendering;",
    "by commands/build/compose_tls.ts; do not edit. This is the Compose TLS rendering\n# (deploy/compose/docker-compose.tls.yml, the receiver over HTTPS with the CA);",
  );

  const datasources = httpsGrafanaDatasources(parse(sources.grafanaDatasources), `${SECRETS_MOUNTS.grafana}/${CA_SHARE_FILE}`);
  const grafanaText = header([
    "Grafana's Prometheus data source over HTTPS (the Compose stack's TLS mode), trusting the",
    "local CA that etl-secrets-init puts at /run/secrets/ca.crt; otherwise as",
    "grafana/provisioning/datasources/prometheus.yml. Checked offline by grafana/provisioning.test.ts:",
    "Grafana cannot run where the tests run.",
    generated,
  ]) + stringify(datasources, { lineWidth: 0 });

  return {
    [COMPOSE_TLS_FILE]: override,
    [PROMETHEUS_TLS_CONFIG]: prometheusText,
    [ALERTMANAGER_TLS_CONFIG]: alertmanager,
    [GRAFANA_TLS_DATASOURCES]: grafanaText,
  };
}
