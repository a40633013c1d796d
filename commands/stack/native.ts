/**
 * The whole stack as processes on this machine: simulator, exporter, alert
 * receiver (the bundles in `dist/`), and Debian's Prometheus and
 * Alertmanager, all on 127.0.0.1, with the secrets of `npm run secrets`.
 * `npm run stack:local` runs it with the production rules; the alerting
 * tests run it with rules made for a compressed time scale.
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
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { parse, stringify } from "yaml";
import { type AlertmanagerTiming, renderAlertmanagerConfig } from "../../lib/alerts/alertmanager_config.ts";
import { type AlertParams, alertRulesYaml, PRODUCTION_ALERT_PARAMS } from "../../lib/alerts/rules.ts";
import { withoutFinalNewline } from "../../lib/secrets/dev_credentials.ts";
import { portOf, type StackService } from "../../lib/stack/compose_settings.ts";
import { alertmanagerFlags, prometheusFlags } from "../../lib/stack/prometheus_flags.ts";
import { renderTargetFiles } from "../../lib/stack/targets.ts";
import { ProcessGroup } from "./processes.ts";

/** Ports of the native stack. */
export interface StackPorts {
  exporter: number;
  simulator: number;
  receiver: number;
  prometheus: number;
  alertmanager: number;
}

const defaultPort = (service: StackService) => portOf(service)!.defaultPort;
/** The ports of the reference stack, plus 9095 for the alert receiver: the Compose stack's (`PUBLISHED_PORTS` of lib/stack/compose_settings.ts). */
export const DEFAULT_PORTS: StackPorts = {
  exporter: defaultPort("etl-metrics"),
  simulator: defaultPort("etl-simulator"),
  receiver: defaultPort("etl-alert-receiver"),
  prometheus: defaultPort("prometheus"),
  alertmanager: defaultPort("alertmanager"),
};

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
  /** More scrape jobs for tests (e.g. one with a wrong password). */
  extraScrapeJobs?: Record<string, unknown>[];
  /** More environment for the exporter (e.g. a shorter staleness limit). */
  exporterEnv?: Record<string, string>;
  /** More environment for the simulator (e.g. batch jobs). */
  simulatorEnv?: Record<string, string>;
  /** Keep data from an earlier run in `runDir` (default: start clean). */
  keepData?: boolean;
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

const readPassword = (secretsDir: string, name: string) => withoutFinalNewline(readFileSync(join(secretsDir, name), "utf8"));

/** Writes the configuration folders of Prometheus and Alertmanager under `runDir`. */
export function assembleConfig(options: NativeStackOptions): { prometheusDir: string; alertmanagerFile: string } {
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
  writeFileSync(join(prometheusDir, "prometheus.yml"), stringify(config));
  writeFileSync(join(prometheusDir, "rules/etl-alerts.yml"), alertRulesYaml(options.alertParams ?? PRODUCTION_ALERT_PARAMS));
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
  writeFileSync(
    alertmanagerFile,
    renderAlertmanagerConfig({
      receiverUrl: `http://127.0.0.1:${ports.receiver}/webhook`,
      receiverPasswordFile: join(secretsDir, "receiver_password"),
      timing: options.alertmanagerTiming,
    }),
  );
  return { prometheusDir, alertmanagerFile };
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
  const { prometheusDir, alertmanagerFile } = assembleConfig(options);
  const group = new ProcessGroup(join(runDir, "logs"));
  const host = "127.0.0.1";
  const urls = {
    exporter: `http://${host}:${ports.exporter}`,
    simulator: `http://${host}:${ports.simulator}`,
    receiver: `http://${host}:${ports.receiver}`,
    prometheus: `http://${host}:${ports.prometheus}`,
    alertmanager: `http://${host}:${ports.alertmanager}`,
  };
  const common = { ETL_HOST: host, ETL_DATA_DIR: join(dataDir, "etl"), ETL_LOG_LEVEL: "info" };
  const workerEnv: Record<string, Record<string, string>> = {
    simulator: {
      ...common,
      SIMULATOR_PORT: String(ports.simulator),
      ETL_METRICS_PASSWORD_FILE: join(secretsDir, "metrics_password.bcrypt"),
      ETL_CONTROL_PASSWORD_FILE: join(secretsDir, "control_password.bcrypt"),
      ETL_SPEED: String(options.speed ?? 1),
      ...(options.seed !== undefined ? { ETL_SEED: String(options.seed) } : {}),
      ...(options.scenario ? { ETL_SCENARIO: options.scenario } : {}),
      ...options.simulatorEnv,
    },
    exporter: { ...common, EXPORTER_PORT: String(ports.exporter), ...options.exporterEnv },
    receiver: {
      ...common,
      RECEIVER_PORT: String(ports.receiver),
      ETL_RECEIVER_PASSWORD_FILE: join(secretsDir, "receiver_password.bcrypt"),
      ETL_DATA_DIR: join(dataDir, "receiver"),
    },
  };
  const startWorker = async (name: "simulator" | "exporter" | "receiver") => {
    group.start(name, process.execPath, [join(root, `dist/${name}.mjs`)], workerEnv[name]);
    const port = ports[name];
    await group.waitHttp(name, `http://${host}:${port}/-/healthy`);
  };

  try {
    await startWorker("receiver");
    await startWorker("exporter");
    await startWorker("simulator");
    group.start(ALERTMANAGER_BINARY, ALERTMANAGER_BINARY, alertmanagerFlags({
      configFile: alertmanagerFile,
      dataDir: join(dataDir, "alertmanager"),
      listenAddress: `${host}:${ports.alertmanager}`,
    }));
    await group.waitHttp(ALERTMANAGER_BINARY, `${urls.alertmanager}/-/ready`);
    group.start(PROMETHEUS_BINARY, PROMETHEUS_BINARY, prometheusFlags({
      configFile: join(prometheusDir, "prometheus.yml"),
      webConfigFile: join(secretsDir, "prometheus-web.yml"),
      dataDir: join(dataDir, "prometheus"),
      listenAddress: `${host}:${ports.prometheus}`,
    }));
    await group.waitHttp(PROMETHEUS_BINARY, `${urls.prometheus}/-/ready`, {
      user: "readonly",
      password: readPassword(secretsDir, "prometheus_readonly_password"),
    });
  } catch (error) {
    await group.stopAll();
    throw error;
  }

  return {
    group,
    urls,
    restartWorker: startWorker,
    stop: () => group.stopAll(),
  };
}
