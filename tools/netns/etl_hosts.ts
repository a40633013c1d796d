/**
 * ETL hosts on a namespace network (./netns.ts), for the multi-host test
 * and the scale benchmark: each host runs the simulator and the exporter
 * (the dist/ bundles) bound to its own address; Prometheus folders are laid
 * out like the stacks' (prometheus.yml from the repository's, rules/,
 * targets/ with a `host` label per host, secrets/).
 * @module
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parse, stringify } from "yaml";
import { formatDuration, parseDuration } from "../../lib/alerts/duration.ts";
import { toYaml } from "../../lib/alerts/rules.ts";
import { prometheusFlags } from "../../lib/stack/prometheus_flags.ts";
import { PROMETHEUS_BINARY } from "../../commands/stack/native.ts";
import type { ProcessGroup } from "../../commands/stack/processes.ts";
import type { Host, Network } from "./netns.ts";
import { certificateRulesYaml } from "../../lib/alerts/certificate_rules.ts";
import { v8FlagsFor } from "../../lib/config/v8_flags.ts";

/** The repository: where npm and vitest run (a bundle's own folder is dist/, so not import.meta). */
export const ROOT = process.cwd();
/** Inside a host's namespace nothing else listens: the default ports. */
export const EXPORTER_PORT = 8083;
export const SIMULATOR_PORT = 8000;
export const AGENT_PORT = 9090;

/** Node's arguments for a worker's bundle, with the V8 flags that worker is started with everywhere. */
const bundleArgs = (name: string) => [...v8FlagsFor(name), join(ROOT, `dist/${name}.mjs`)];
const password = (secretsDir: string, name: string) => readFileSync(join(secretsDir, name), "utf8").trim();

/** How a host's workers run. */
export interface EtlHostOptions {
  /** The host's data folder is `<runDir>/hosts/<host name>`. */
  runDir: string;
  secretsDir: string;
  speed: number;
  seed: number;
  /** Pipeline names; the simulator's default (`etl`) when absent. */
  pipelines?: string[];
  exporterEnv?: Record<string, string>;
  /** More of the simulator's settings (a batch job: `ETL_BATCH_PIPELINES`). */
  simulatorEnv?: Record<string, string>;
}

/** Starts a simulator and an exporter on `host` and waits until both answer. */
export async function startEtlHost(group: ProcessGroup, network: Network, host: Host, options: EtlHostOptions): Promise<void> {
  const dataDir = join(options.runDir, "hosts", host.name);
  const common = { ETL_HOST: host.address, ETL_DATA_DIR: dataDir, ETL_LOG_LEVEL: "info" };
  group.start(`exporter-${host.name}`, ...network.exec(host, process.execPath, bundleArgs("exporter")), {
    ...common, EXPORTER_PORT: String(EXPORTER_PORT), ...options.exporterEnv,
  });
  group.start(`simulator-${host.name}`, ...network.exec(host, process.execPath, bundleArgs("simulator")), {
    ...common,
    SIMULATOR_PORT: String(SIMULATOR_PORT),
    ETL_SPEED: String(options.speed),
    ETL_SEED: String(options.seed),
    ETL_METRICS_PASSWORD_FILE: join(options.secretsDir, "metrics_password.bcrypt"),
    ETL_CONTROL_PASSWORD_FILE: join(options.secretsDir, "control_password.bcrypt"),
    ...(options.pipelines ? { ETL_PIPELINES: options.pipelines.join(",") } : {}),
    ...options.simulatorEnv,
  });
  await group.waitHttp(`exporter-${host.name}`, `http://${host.address}:${EXPORTER_PORT}/-/healthy`, undefined, 60_000);
  await group.waitHttp(`simulator-${host.name}`, `http://${host.address}:${SIMULATOR_PORT}/-/healthy`, undefined, 60_000);
}

/**
 * A pipeline catalog (the text of one, e.g. deploy/pipelines.example.yml,
 * whose times are wall times at speed 1) for a simulator running `speed`
 * times faster: `every`, `grace` and `max_run_duration` divided by the
 * speed, as the simulator divides its batch interval. A cron `schedule`
 * cannot be compressed, so it is refused.
 */
export function catalogForSpeed(text: string, speed: number): string {
  const catalog = parse(text) as { pipelines: Record<string, Record<string, unknown>> };
  for (const [name, entry] of Object.entries(catalog.pipelines)) {
    if (entry.schedule !== undefined) throw new Error(`pipeline ${name}: a cron schedule cannot be run ${speed} times faster`);
    for (const field of ["every", "grace", "max_run_duration"]) {
      if (typeof entry[field] === "string") entry[field] = formatDuration(parseDuration(entry[field]) / speed);
    }
  }
  return stringify(catalog);
}

/** A file-discovery file: one group per host, with its `host` label. */
export function hostTargets(hosts: Host[], port: number, service: string): string {
  return `${JSON.stringify(hosts.map((h) => ({ targets: [`${h.address}:${port}`], labels: { service, host: h.name } })))}\n`;
}

/** What goes into one Prometheus folder. */
export interface PrometheusDirOptions {
  secretsDir: string;
  /** The rule file's text (`rules/etl-alerts.yml`). */
  rules: string;
  /** `targets/<file>` → text. */
  targets: Record<string, string>;
  scrapeInterval: string;
  evaluationInterval: string;
  /** Last changes to the configuration (external labels, jobs, remote write). */
  edit?: (config: Record<string, any>) => Record<string, any>;
}

/** Writes `dir` as the stacks lay out `/etc/prometheus`, from the repository's prometheus.yml. */
export function writePrometheusDir(dir: string, options: PrometheusDirOptions): string {
  mkdirSync(join(dir, "rules"), { recursive: true });
  mkdirSync(join(dir, "targets"), { recursive: true });
  const config = parse(readFileSync(join(ROOT, "prometheus/prometheus.yml"), "utf8")) as Record<string, any>;
  config.global = { ...config.global, scrape_interval: options.scrapeInterval, evaluation_interval: options.evaluationInterval };
  // A scrape may not take longer than its interval.
  if (Number.parseFloat(options.scrapeInterval) < Number.parseFloat(config.global.scrape_timeout)) config.global.scrape_timeout = options.scrapeInterval;
  writeFileSync(join(dir, "prometheus.yml"), toYaml(options.edit ? options.edit(config) : config));
  writeFileSync(join(dir, "rules/etl-alerts.yml"), options.rules);
  // prometheus.yml names it too; these hosts serve plain HTTP, so its rule never fires here.
  writeFileSync(join(dir, "rules/etl-certificates.yml"), certificateRulesYaml());
  for (const [file, text] of Object.entries(options.targets)) writeFileSync(join(dir, "targets", file), text);
  symlinkSync(options.secretsDir, join(dir, "secrets"), "dir");
  return dir;
}

/** How one Prometheus runs. */
export interface PrometheusRun {
  secretsDir: string;
  listen: string;
  mode?: "agent";
  remoteWriteReceiver?: boolean;
  /** Run on this host (inside its namespace) rather than in the root namespace. */
  on?: { network: Network; host: Host };
}

/** Starts Prometheus on the folder `dir` and waits until it is ready; its URL. */
export async function startPrometheus(group: ProcessGroup, name: string, dir: string, run: PrometheusRun): Promise<string> {
  const flags = prometheusFlags({
    configFile: join(dir, "prometheus.yml"), webConfigFile: join(run.secretsDir, "prometheus-web.yml"),
    dataDir: join(dir, "data"), listenAddress: run.listen, mode: run.mode, remoteWriteReceiver: run.remoteWriteReceiver,
  });
  if (run.on) group.start(name, ...run.on.network.exec(run.on.host, PROMETHEUS_BINARY, flags));
  else group.start(name, PROMETHEUS_BINARY, flags);
  const url = `http://${run.listen}`;
  await group.waitHttp(name, `${url}/-/ready`, { user: "readonly", password: password(run.secretsDir, "prometheus_readonly_password") });
  return url;
}
