/**
 * The whole stack as processes on this machine: simulator, exporter, alert
 * receiver (the bundles in `dist/`), and Debian's Prometheus and
 * Alertmanager, all on 127.0.0.1, with the secrets of `npm run secrets`.
 * `npm run stack:local` runs it with the production rules at speed 1 and
 * rules scaled to a faster simulator (lib/stack/local_settings.ts); the
 * alerting tests run it with their own compressed time scale.
 *
 * Prometheus gets a folder laid out like the Compose stack's
 * `/etc/prometheus`: the repository's `prometheus.yml`, the rules, target
 * files with this stack's ports, and `secrets/` linked to the secrets folder.
 *
 * @example
 * ```ts
 * import { startNativeStack, DEFAULT_PORTS } from "./native.ts";
 * const stack = await startNativeStack({ root: ".", runDir: ".stack", secretsDir: "secrets", ports: DEFAULT_PORTS });
 * // …
 * await stack.stop();
 * ```
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { parse, stringify } from "yaml";
import { type AlertmanagerTiming, renderAlertmanagerConfig } from "../../lib/alerts/alertmanager_config.ts";
import type { NotificationChannels } from "../../lib/alerts/notification_channels.ts";
import { certificateRulesYaml } from "../../lib/alerts/certificate_rules.ts";
import { type AlertParams, alertRulesYaml, PRODUCTION_ALERT_PARAMS } from "../../lib/alerts/rules.ts";
import { defaultsOf } from "../../lib/config/settings.ts";
import { v8FlagsFor } from "../../lib/config/v8_flags.ts";
import { CA_CERT_FILE, serverFiles, TLS_SERVICES, type TlsService } from "../../lib/secrets/certificates.ts";
import { PROMETHEUS_WEB_CONFIG_FILE } from "../../lib/secrets/secrets_layout.ts";
import { LOCAL_STACK_SETTINGS, type NativeService, nativePorts } from "../../lib/stack/local_settings.ts";
import { alertmanagerFlags, prometheusFlags } from "../../lib/stack/prometheus_flags.ts";
import { renderTargetFiles } from "../../lib/stack/targets.ts";
import { httpsPrometheusConfig, httpsWebConfig } from "../../lib/stack/tls_mode.ts";
import { readPassword, SECRET_FILE_MODE } from "../../workers/secret_files.ts";
import { ProcessGroup } from "./processes.ts";

/** Ports of the native stack. */
export type StackPorts = Record<NativeService, number>;

/** The ports of the Compose stack (`PUBLISHED_PORTS` of lib/stack/published_ports.ts), which `npm run stack:local` takes by default. */
export const DEFAULT_PORTS: StackPorts = nativePorts(defaultsOf(LOCAL_STACK_SETTINGS));

/** How to run the native stack. */
export interface NativeStackOptions {
  /** The repository: `prometheus/` and `dist/` are read from here. */
  root: string;
  /** Where the stack's configuration copies, data and logs go. */
  runDir: string;
  secretsDir: string;
  ports: StackPorts;
  /** Simulator settings. */
  speed?: number;
  seed?: number;
  scenario?: string;
  /** Rule thresholds and durations; production unless a test scales them. */
  alertParams?: AlertParams;
  scrapeInterval?: string;
  evaluationInterval?: string;
  alertmanagerTiming?: Partial<AlertmanagerTiming>;
  /** E-mail and Slack beside the webhook (lib/alerts/notification_channels.ts); none by default. */
  channels?: NotificationChannels;
  /** More scrape jobs for tests (e.g. one with a wrong password). */
  extraScrapeJobs?: Record<string, unknown>[];
  /** More environment for the exporter (e.g. a shorter staleness limit). */
  exporterEnv?: Record<string, string>;
  /** More environment for the simulator (e.g. batch jobs). */
  simulatorEnv?: Record<string, string>;
  /** Keep data from an earlier run in `runDir` (default: start clean). */
  keepData?: boolean;
  /**
   * Everything over HTTPS with the local CA of `secretsDir` (`npm run
   * secrets` makes it): the workers, Prometheus, Alertmanager, and every
   * connection between them. Plain HTTP by default.
   */
  tls?: boolean;
}

/** A running native stack. */
export interface NativeStack {
  group: ProcessGroup;
  urls: Record<keyof StackPorts, string>;
  /** Starts one of the workers again after it was stopped (e.g. the simulator after `crash`). */
  restartWorker(name: "simulator" | "exporter" | "receiver"): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's binary names; the Alertmanager package calls it prometheus-alertmanager. */
export const PROMETHEUS_BINARY = "prometheus";
export const ALERTMANAGER_BINARY = "prometheus-alertmanager";
/** What to say when the binaries are missing. */
export const INSTALL_HINT = "apt-get install --no-install-recommends prometheus prometheus-alertmanager";

/** True when both Debian binaries answer `--version`. */
export function haveServerBinaries(): boolean {
  return [PROMETHEUS_BINARY, ALERTMANAGER_BINARY].every((b) => spawnSync(b, ["--version"]).status === 0);
}

/** Writes the configuration folders of Prometheus and Alertmanager under `runDir`. */
export function assembleConfig(options: NativeStackOptions): {
  prometheusDir: string;
  alertmanagerFile: string;
  webConfigs: { prometheus: string; alertmanager?: string };
} {
  const runDir = resolve(options.runDir);
  const root = resolve(options.root);
  const secretsDir = resolve(options.secretsDir);
  const { ports } = options;
  const prometheusDir = join(runDir, "prometheus");
  rmSync(prometheusDir, { recursive: true, force: true });
  mkdirSync(join(prometheusDir, "rules"), { recursive: true });
  mkdirSync(join(prometheusDir, "targets"), { recursive: true });

  const config = parse(readFileSync(join(root, "prometheus/prometheus.yml"), "utf8")) as {
    global: Record<string, string>;
    scrape_configs: Record<string, unknown>[];
  };
  if (options.scrapeInterval) {
    config.global.scrape_interval = options.scrapeInterval;
    config.global.scrape_timeout = options.scrapeInterval;
  }
  if (options.evaluationInterval) config.global.evaluation_interval = options.evaluationInterval;
  config.scrape_configs.push(...(options.extraScrapeJobs ?? []));
  writeFileSync(join(prometheusDir, "prometheus.yml"), stringify(options.tls ? httpsPrometheusConfig(config, `secrets/${CA_CERT_FILE}`) : config));
  writeFileSync(join(prometheusDir, "rules/etl-alerts.yml"), alertRulesYaml(options.alertParams ?? PRODUCTION_ALERT_PARAMS));
  writeFileSync(join(prometheusDir, "rules/etl-certificates.yml"), certificateRulesYaml());
  const targets = renderTargetFiles({
    "etl-metrics": `127.0.0.1:${ports.exporter}`,
    "etl-simulator": `127.0.0.1:${ports.simulator}`,
    prometheus: `127.0.0.1:${ports.prometheus}`,
    alertmanager: `127.0.0.1:${ports.alertmanager}`,
  });
  for (const [file, text] of Object.entries(targets)) writeFileSync(join(prometheusDir, "targets", file), text);
  symlinkSync(secretsDir, join(prometheusDir, "secrets"), "dir");

  const alertmanagerDir = join(runDir, "alertmanager");
  mkdirSync(alertmanagerDir, { recursive: true });
  const alertmanagerFile = join(alertmanagerDir, "alertmanager.yml");
  const tlsFiles = (service: TlsService) => {
    const f = serverFiles(service);
    return { certFile: join(secretsDir, f.cert), keyFile: join(secretsDir, f.key) };
  };
  let webConfigs: { prometheus: string; alertmanager?: string } = { prometheus: join(secretsDir, PROMETHEUS_WEB_CONFIG_FILE) };
  if (options.tls) {
    for (const file of [CA_CERT_FILE, ...TLS_SERVICES.flatMap((s) => Object.values(serverFiles(s)))]) {
      if (!existsSync(join(secretsDir, file))) throw new Error(`${join(secretsDir, file)} is missing: run npm run secrets`);
    }
    const users = parse(readFileSync(webConfigs.prometheus, "utf8")) as Record<string, unknown>;
    webConfigs = { prometheus: join(prometheusDir, "web.yml"), alertmanager: join(alertmanagerDir, "web.yml") };
    // The copy holds bcrypt hashes: it gets the secrets' file mode.
    writeFileSync(webConfigs.prometheus, stringify(httpsWebConfig(users, tlsFiles("prometheus"))), { mode: SECRET_FILE_MODE });
    writeFileSync(webConfigs.alertmanager!, stringify(httpsWebConfig({}, tlsFiles("alertmanager"))));
  }
  writeFileSync(
    alertmanagerFile,
    renderAlertmanagerConfig({
      receiverUrl: `${options.tls ? "https" : "http"}://127.0.0.1:${ports.receiver}/webhook`,
      receiverCaFile: options.tls ? join(secretsDir, CA_CERT_FILE) : undefined,
      receiverPasswordFile: join(secretsDir, "receiver_password"),
      timing: options.alertmanagerTiming,
      channels: options.channels,
    }),
  );
  return { prometheusDir, alertmanagerFile, webConfigs };
}

/** Starts everything and waits until each part answers its readiness probe. */
export async function startNativeStack(options: NativeStackOptions): Promise<NativeStack> {
  const runDir = resolve(options.runDir);
  const root = resolve(options.root);
  const secretsDir = resolve(options.secretsDir);
  const { ports } = options;
  if (!options.keepData) rmSync(join(runDir, "data"), { recursive: true, force: true });
  const dataDir = join(runDir, "data");
  mkdirSync(dataDir, { recursive: true });
  const { prometheusDir, alertmanagerFile, webConfigs } = assembleConfig(options);
  const group = new ProcessGroup(join(runDir, "logs"));
  const host = "127.0.0.1";
  const scheme = options.tls ? "https" : "http";
  const ca = options.tls ? readFileSync(join(secretsDir, CA_CERT_FILE), "utf8") : undefined;
  const urls = {
    exporter: `${scheme}://${host}:${ports.exporter}`,
    simulator: `${scheme}://${host}:${ports.simulator}`,
    receiver: `${scheme}://${host}:${ports.receiver}`,
    prometheus: `${scheme}://${host}:${ports.prometheus}`,
    alertmanager: `${scheme}://${host}:${ports.alertmanager}`,
  };
  const tlsEnv = (service: TlsService): Record<string, string> => {
    if (!options.tls) return {};
    const f = serverFiles(service);
    return { ETL_TLS_CERT_FILE: join(secretsDir, f.cert), ETL_TLS_KEY_FILE: join(secretsDir, f.key) };
  };
  const common = { ETL_HOST: host, ETL_DATA_DIR: join(dataDir, "etl"), ETL_LOG_LEVEL: "info" };
  const workerEnv: Record<string, Record<string, string>> = {
    simulator: {
      ...common,
      ...tlsEnv("etl-simulator"),
      SIMULATOR_PORT: String(ports.simulator),
      ETL_METRICS_PASSWORD_FILE: join(secretsDir, "metrics_password.bcrypt"),
      ETL_CONTROL_PASSWORD_FILE: join(secretsDir, "control_password.bcrypt"),
      ETL_SPEED: String(options.speed ?? 1),
      ...(options.seed !== undefined ? { ETL_SEED: String(options.seed) } : {}),
      ...(options.scenario ? { ETL_SCENARIO: options.scenario } : {}),
      ...options.simulatorEnv,
    },
    exporter: {
      ...common,
      ...tlsEnv("etl-metrics"),
      EXPORTER_PORT: String(ports.exporter),
      ETL_INGEST: "1",
      ETL_INGEST_TOKEN_FILE: join(secretsDir, "ingest_token.sha256"),
      ...options.exporterEnv,
    },
    receiver: {
      ...common,
      ...tlsEnv("etl-alert-receiver"),
      RECEIVER_PORT: String(ports.receiver),
      ETL_RECEIVER_PASSWORD_FILE: join(secretsDir, "receiver_password.bcrypt"),
      ETL_DATA_DIR: join(dataDir, "receiver"),
    },
  };
  // A part that stops while the rest starts fails the start, so the stack never comes up with a part dead.
  let exitsBefore = group.unexpectedExits.length;
  const startWorker = async (name: "simulator" | "exporter" | "receiver") => {
    group.start(name, process.execPath, [...v8FlagsFor(name), join(root, `dist/${name}.mjs`)], workerEnv[name]);
    const port = ports[name];
    await group.waitHttp(name, `${scheme}://${host}:${port}/-/healthy`, undefined, 30_000, exitsBefore, ca);
  };

  try {
    await startWorker("receiver");
    await startWorker("exporter");
    await startWorker("simulator");
    group.start(ALERTMANAGER_BINARY, ALERTMANAGER_BINARY, alertmanagerFlags({
      configFile: alertmanagerFile,
      dataDir: join(dataDir, "alertmanager"),
      listenAddress: `${host}:${ports.alertmanager}`,
      ...(webConfigs.alertmanager ? { webConfigFile: webConfigs.alertmanager } : {}),
    }));
    await group.waitHttp(ALERTMANAGER_BINARY, `${urls.alertmanager}/-/ready`, undefined, 30_000, exitsBefore, ca);
    group.start(PROMETHEUS_BINARY, PROMETHEUS_BINARY, prometheusFlags({
      configFile: join(prometheusDir, "prometheus.yml"),
      webConfigFile: webConfigs.prometheus,
      dataDir: join(dataDir, "prometheus"),
      listenAddress: `${host}:${ports.prometheus}`,
    }));
    await group.waitHttp(PROMETHEUS_BINARY, `${urls.prometheus}/-/ready`, {
      user: "readonly",
      password: await readPassword(join(secretsDir, "prometheus_readonly_password"), { what: "readonly password" }),
    }, 30_000, exitsBefore, ca);
    group.throwIfExitedSince(exitsBefore);
  } catch (error) {
    await group.stopAll();
    throw error;
  }

  return {
    group,
    urls,
    restartWorker: (name) => {
      // The restart is watched from now: the stop before it (the crash scenario, say) was expected.
      exitsBefore = group.unexpectedExits.length;
      return startWorker(name);
    },
    stop: () => group.stopAll(),
  };
}
