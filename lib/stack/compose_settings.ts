/**
 * The settings and commands of the Compose stack's management CLI
 * (`npm run stack -- COMMAND`): the host ports and bind address Compose
 * publishes (the `ETL_*` variables of `deploy/compose/docker-compose.yml`),
 * the URL of each service, the command table with each command's flags and
 * help, and the pure checks made before `up` (ports taken, ports repeated).
 *
 * Each setting is an environment variable and a flag with a default and a
 * help line, parsed once by zod through {@linkcode parseSettings}; the CLI
 * hands the resolved ports and address back to Compose, so both always
 * agree on them.
 *
 * @example
 * ```ts
 * import { parseStackCommand, stackUrls } from "./compose_settings.ts";
 * const parsed = parseStackCommand(["up", "--grafana-port", "3001"], {});
 * if (parsed.kind === "run") stackUrls(parsed.settings).grafana; // "http://127.0.0.1:3001/"
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import * as z from "zod";
import { helpText, parseSettings, type SettingSpec, type SettingsOf, type SettingsSpec } from "../config/settings.ts";
import { textTable } from "./text_table.ts";

/**
 * The Compose project name the CLI always passes (`-p`).
 *
 * @example
 * ```ts
 * ["docker", "compose", "-p", COMPOSE_PROJECT]; // ["docker", "compose", "-p", "etl-monitoring"]
 * ```
 */
export const COMPOSE_PROJECT = "etl-monitoring";

/**
 * The Compose file, relative to the repository root.
 *
 * @example
 * ```ts
 * join(root, COMPOSE_FILE); // "/repo/deploy/compose/docker-compose.yml"
 * ```
 */
export const COMPOSE_FILE = "deploy/compose/docker-compose.yml";

/**
 * The services of the stack, in the order the CLI reports them.
 *
 * @example
 * ```ts
 * STACK_SERVICES.includes("grafana"); // true
 * ```
 */
export const STACK_SERVICES = [
  "etl-secrets-init",
  "etl-simulator",
  "etl-metrics",
  "etl-alert-receiver",
  "alertmanager",
  "prometheus",
  "grafana",
] as const;

/**
 * One of {@linkcode STACK_SERVICES}.
 *
 * @example
 * ```ts
 * const service: StackService = "etl-metrics";
 * ```
 */
export type StackService = (typeof STACK_SERVICES)[number];

/**
 * Services that run once and exit: done when exited with code 0, not when healthy.
 *
 * @example
 * ```ts
 * ONE_SHOT_SERVICES.includes("etl-secrets-init"); // true
 * ```
 */
export const ONE_SHOT_SERVICES: readonly string[] = ["etl-secrets-init"];

/**
 * The services `restart-etl` restarts.
 *
 * @example
 * ```ts
 * ETL_SERVICES; // ["etl-simulator", "etl-metrics"]
 * ```
 */
export const ETL_SERVICES: readonly StackService[] = ["etl-simulator", "etl-metrics"];

/**
 * A port the stack publishes on the host: the variable that moves it, the
 * service behind it and the page worth opening there.
 *
 * @example
 * ```ts
 * const grafana: PublishedPort = {
 *   key: "grafanaPort", env: "ETL_GRAFANA_PORT", flag: "grafana-port", service: "grafana",
 *   title: "Grafana", defaultPort: 3000, containerPort: 3000, path: "/",
 * };
 * ```
 */
export interface PublishedPort {
  key: PortKey;
  env: string;
  flag: string;
  service: StackService;
  title: string;
  defaultPort: number;
  containerPort: number;
  /** Appended to `http://host:port` in the URL printed after `up`. */
  path: string;
}

/**
 * The settings key of each published port.
 *
 * @example
 * ```ts
 * const key: PortKey = "prometheusPort";
 * ```
 */
export type PortKey = "grafanaPort" | "prometheusPort" | "alertmanagerPort" | "exporterPort" | "simulatorPort" | "receiverPort";

/**
 * Every port the stack publishes, in the order the URLs are printed.
 *
 * @example
 * ```ts
 * PUBLISHED_PORTS.map((p) => p.env);
 * // ["ETL_GRAFANA_PORT", "ETL_PROMETHEUS_PORT", "ETL_ALERTMANAGER_PORT",
 * //  "ETL_EXPORTER_PORT", "ETL_SIMULATOR_PORT", "ETL_RECEIVER_PORT"]
 * ```
 */
export const PUBLISHED_PORTS: readonly PublishedPort[] = [
  { key: "grafanaPort", env: "ETL_GRAFANA_PORT", flag: "grafana-port", service: "grafana", title: "Grafana", defaultPort: 3000, containerPort: 3000, path: "/" },
  {
    key: "prometheusPort",
    env: "ETL_PROMETHEUS_PORT",
    flag: "prometheus-port",
    service: "prometheus",
    title: "Prometheus",
    defaultPort: 9090,
    containerPort: 9090,
    path: "/",
  },
  {
    key: "alertmanagerPort",
    env: "ETL_ALERTMANAGER_PORT",
    flag: "alertmanager-port",
    service: "alertmanager",
    title: "Alertmanager",
    defaultPort: 9093,
    containerPort: 9093,
    path: "/",
  },
  {
    key: "exporterPort",
    env: "ETL_EXPORTER_PORT",
    flag: "exporter-port",
    service: "etl-metrics",
    title: "exporter",
    defaultPort: 8083,
    containerPort: 8083,
    path: "/metrics",
  },
  {
    key: "simulatorPort",
    env: "ETL_SIMULATOR_PORT",
    flag: "simulator-port",
    service: "etl-simulator",
    title: "simulator",
    defaultPort: 8000,
    containerPort: 8000,
    path: "/metrics",
  },
  {
    key: "receiverPort",
    env: "ETL_RECEIVER_PORT",
    flag: "receiver-port",
    service: "etl-alert-receiver",
    title: "alert receiver",
    defaultPort: 9095,
    containerPort: 9095,
    path: "/notifications",
  },
];

/**
 * The published port of `service`, if it has one.
 *
 * @example
 * ```ts
 * portOf("prometheus")?.env; // "ETL_PROMETHEUS_PORT"
 * portOf("etl-secrets-init"); // undefined
 * ```
 */
export function portOf(service: string): PublishedPort | undefined {
  return PUBLISHED_PORTS.find((p) => p.service === service);
}

const port = (fallback: number) =>
  z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535")
    .default(fallback);

const portSetting = (p: PublishedPort): SettingSpec<number> => ({
  env: p.env,
  flag: p.flag,
  help: `Host port of ${p.title} (${p.service}).`,
  defaultText: String(p.defaultPort),
  schema: port(p.defaultPort),
});

const byKey = (key: PortKey) => PUBLISHED_PORTS.find((p) => p.key === key)!;

/**
 * The settings every command takes: where Compose and the secrets are, and
 * what the stack publishes. Paths left unset are resolved by the CLI against
 * the repository root, so it works from any working directory.
 *
 * @example
 * ```ts
 * GLOBAL_SETTINGS.bindAddress.env; // "ETL_BIND_ADDRESS"
 * ```
 */
export const GLOBAL_SETTINGS = {
  secretsDir: {
    env: "ETL_SECRETS_DIR",
    flag: "secrets-dir",
    help: "The secrets folder (npm run secrets); created with every credential when missing.",
    defaultText: "secrets/ in the repository",
    schema: z.string().min(1, "must not be empty").optional(),
  },
  bindAddress: {
    env: "ETL_BIND_ADDRESS",
    flag: "bind-address",
    help: "Host address the ports are published on; 0.0.0.0 exposes them to the network.",
    defaultText: "127.0.0.1",
    schema: z.union([z.ipv4(), z.ipv6()], { error: "must be an IP address such as 127.0.0.1 or 0.0.0.0" }).default("127.0.0.1"),
  },
  grafanaPort: portSetting(byKey("grafanaPort")),
  prometheusPort: portSetting(byKey("prometheusPort")),
  alertmanagerPort: portSetting(byKey("alertmanagerPort")),
  exporterPort: portSetting(byKey("exporterPort")),
  simulatorPort: portSetting(byKey("simulatorPort")),
  receiverPort: portSetting(byKey("receiverPort")),
  compose: {
    env: "ETL_COMPOSE",
    flag: "compose",
    help: "The Compose command, e.g. \"docker compose\" or docker-compose.",
    defaultText: "docker compose when it answers, else docker-compose",
    schema: z.string().trim().min(1, "must not be empty").optional(),
  },
  composeFile: {
    env: "ETL_COMPOSE_FILE",
    flag: "compose-file",
    help: "The Compose file.",
    defaultText: COMPOSE_FILE + " in the repository",
    schema: z.string().min(1, "must not be empty").optional(),
  },
  project: {
    env: "ETL_COMPOSE_PROJECT",
    flag: "project",
    help: "The Compose project name.",
    defaultText: COMPOSE_PROJECT,
    schema: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "must be lower-case letters, digits, - and _").default(COMPOSE_PROJECT),
  },
} satisfies SettingsSpec;

/**
 * The image whose `tar` archives and restores the volumes; built by `up`.
 *
 * @example
 * ```ts
 * ["docker", "run", "--rm", BACKUP_IMAGE]; // [..., "etl-monitoring/etl-metrics:0.1.0"]
 * ```
 */
export const BACKUP_IMAGE = "etl-monitoring/etl-metrics:0.1.0";

/**
 * Settings of some commands only; each command lists those it takes in
 * {@linkcode STACK_COMMANDS}.
 *
 * @example
 * ```ts
 * COMMAND_SETTINGS.timeout.defaultText; // "300"
 * ```
 */
export const COMMAND_SETTINGS = {
  timeout: {
    env: "ETL_STACK_TIMEOUT",
    flag: "timeout",
    help: "Seconds to wait for the services to be healthy.",
    defaultText: "300",
    schema: z.coerce.number({ error: "must be a number" }).positive("must be above 0").max(86_400).default(300),
  },
  deleteData: {
    flag: "delete-data",
    help: "Also remove the data volumes (Prometheus, Grafana, Alertmanager, logs, secrets copies).",
    defaultText: "off: the data is kept",
    boolean: true,
    schema: z.boolean().default(false),
  },
  follow: {
    flag: "follow",
    help: "Keep printing new lines until Ctrl-C.",
    defaultText: "off",
    boolean: true,
    schema: z.boolean().default(false),
  },
  tail: {
    flag: "tail",
    help: "Lines of each service's log to show first, or all.",
    defaultText: "100",
    schema: z.string().regex(/^(\d+|all)$/, "must be a number of lines or all").default("100"),
  },
  status: {
    flag: "status",
    help: "Show the running scenario instead of switching it.",
    defaultText: "off",
    boolean: true,
    schema: z.boolean().default(false),
  },
  image: {
    env: "ETL_BACKUP_IMAGE",
    flag: "image",
    help: "Image whose tar copies the volumes (run as root, entrypoint tar).",
    defaultText: BACKUP_IMAGE,
    schema: z.string().min(1, "must not be empty").default(BACKUP_IMAGE),
  },
} satisfies SettingsSpec;

const ALL_SETTINGS = { ...GLOBAL_SETTINGS, ...COMMAND_SETTINGS };

/**
 * The values of every setting; those a command does not take keep their default.
 *
 * @example
 * ```ts
 * const settings: StackSettings = defaultStackSettings();
 * settings.prometheusPort; // 9090
 * ```
 */
export type StackSettings = SettingsOf<typeof ALL_SETTINGS>;

/**
 * What a command takes besides flags.
 *
 * @example
 * ```ts
 * const args: Positionals = { name: "SERVICE", min: 0, max: Infinity };
 * ```
 */
export interface Positionals {
  name: string;
  min: number;
  max: number;
}

/**
 * One command of the CLI: its usage, help and flags.
 *
 * @example
 * ```ts
 * STACK_COMMANDS.logs.settings; // ["follow", "tail"]
 * ```
 */
export interface StackCommandSpec {
  usage: string;
  summary: string;
  help: string;
  positionals: Positionals;
  settings: readonly (keyof typeof COMMAND_SETTINGS)[];
}

/**
 * The commands, in the order `--help` lists them.
 *
 * @example
 * ```ts
 * Object.keys(STACK_COMMANDS);
 * // ["up", "down", "restart-etl", "status", "logs", "scenario", "backup", "restore"]
 * ```
 */
export const STACK_COMMANDS = {
  up: {
    usage: "up [SERVICE...]",
    summary: "build, start, wait until healthy, print the URLs and credentials",
    help: "Creates the secrets when missing, checks Docker and the host ports, builds the images (output shown as it\n" +
      "comes), starts the services (all, or those named and what they depend on) and waits until each one is\n" +
      "healthy (etl-secrets-init: exited 0). Then prints the URLs and which credential opens what.",
    positionals: { name: "SERVICE", min: 0, max: Infinity },
    settings: ["timeout"],
  },
  down: {
    usage: "down",
    summary: "stop and remove the containers; the data volumes are kept",
    help: "Stops and removes the containers and the network. The named volumes (Prometheus's, Grafana's and\n" +
      "Alertmanager's data, the logs) are kept unless --delete-data.",
    positionals: { name: "", min: 0, max: 0 },
    settings: ["deleteData"],
  },
  "restart-etl": {
    usage: "restart-etl",
    summary: "restart etl-simulator and etl-metrics, wait until healthy",
    help: "Restarts etl-simulator and etl-metrics only (the rest keeps running) and waits until both are healthy.",
    positionals: { name: "", min: 0, max: 0 },
    settings: ["timeout"],
  },
  status: {
    usage: "status",
    summary: "state and health of each service, Prometheus targets, firing alerts",
    help: "Shows each service's state and health, each Prometheus target's health and the alerts firing\n" +
      "(Prometheus is asked as user readonly, password from the secrets folder).\n" +
      "Exit code 0 when every service is healthy, every target up and no alert firing; 1 otherwise.",
    positionals: { name: "", min: 0, max: 0 },
    settings: [],
  },
  logs: {
    usage: "logs [SERVICE]",
    summary: "the services' logs (--follow, --tail N)",
    help: "Prints the logs of every service, or of SERVICE (compose logs).",
    positionals: { name: "SERVICE", min: 0, max: 1 },
    settings: ["follow", "tail"],
  },
  scenario: {
    usage: "scenario NAME | scenario --status",
    summary: "switch the simulator's scenario, or show it",
    help: "Switches the running simulator's scenario through its control endpoint (user control, password\n" +
      "from the secrets folder); NAME is normal, stall, crash, slow, error-burst or low-throughput.",
    positionals: { name: "NAME", min: 0, max: 1 },
    settings: ["status"],
  },
  backup: {
    usage: "backup [DIR]",
    summary: "archive Prometheus's, Grafana's and Alertmanager's data into DIR",
    help: "Stops prometheus, grafana and alertmanager (for a consistent copy), archives each data volume into\n" +
      "DIR/<volume>.tar.gz with a manifest.json (time, sizes, SHA-256), then starts again those that were\n" +
      "running. DIR defaults to backups/<UTC time> in the repository. Works with the stack up or down.",
    positionals: { name: "DIR", min: 0, max: 1 },
    settings: ["image", "timeout"],
  },
  restore: {
    usage: "restore DIR",
    summary: "put a backup back into the data volumes",
    help: "Checks DIR's manifest.json and archives first, stops prometheus, grafana and alertmanager, empties\n" +
      "each volume of the manifest and unpacks its archive into it (owners kept), then starts again those\n" +
      "that were running. A missing volume is created.",
    positionals: { name: "DIR", min: 1, max: 1 },
    settings: ["image", "timeout"],
  },
} as const satisfies Record<string, StackCommandSpec>;

/**
 * One of the command names.
 *
 * @example
 * ```ts
 * const command: StackCommand = "restart-etl";
 * ```
 */
export type StackCommand = keyof typeof STACK_COMMANDS;

/**
 * How the CLI is started, shown in the help texts.
 *
 * @example
 * ```ts
 * `${CLI_NAME} up`; // "npm run stack -- up"
 * ```
 */
export const CLI_NAME = "npm run stack --";

/**
 * The help of the whole CLI.
 *
 * @example
 * ```ts
 * STACK_USAGE.startsWith("Usage: npm run stack -- COMMAND [flags]"); // true
 * ```
 */
export const STACK_USAGE = `Usage: ${CLI_NAME} COMMAND [flags]     (or: deno task stack COMMAND [flags])

Manages the Docker Compose stack (${COMPOSE_FILE}, project ${COMPOSE_PROJECT}).

Commands:
${Object.values(STACK_COMMANDS).map((c) => `  ${c.usage.split(" | ")[0]!.padEnd(18)} ${c.summary}`).join("\n")}

${CLI_NAME} COMMAND --help lists the flags of a command (every command also takes
the settings of the Compose stack: --secrets-dir, --bind-address, the ports, --compose).

Exit codes: 0 done, 1 failed (the message says why), 2 the command line was wrong.`;

/**
 * The help of one command: its usage, what it does, its flags, then the
 * settings every command takes.
 *
 * @example
 * ```ts
 * commandHelp("logs").split("\n")[0]; // "Usage: npm run stack -- logs [SERVICE] [flags]"
 * ```
 */
export function commandHelp(command: StackCommand): string {
  const spec: StackCommandSpec = STACK_COMMANDS[command];
  const usage = spec.usage.split(" | ").map((u, i) => `${i === 0 ? "Usage:" : "      "} ${CLI_NAME} ${u} [flags]`).join("\n");
  const own = Object.fromEntries(spec.settings.map((k) => [k, COMMAND_SETTINGS[k]])) as SettingsSpec;
  const parts = [usage, "", spec.help, ""];
  if (spec.settings.length > 0) parts.push(helpText(own, "Flags (flag, environment variable, default):"), "");
  parts.push(helpText(GLOBAL_SETTINGS, "Settings of every command:"));
  return parts.join("\n");
}

/**
 * The outcome of {@linkcode parseStackCommand}: help to print (exit 0), a
 * usage error (exit 2), or a command to run.
 *
 * @example
 * ```ts
 * const parsed: ParsedStackCommand = { kind: "usage-error", message: "stack: unknown command \"upp\"\n\nUsage: …" };
 * ```
 */
export type ParsedStackCommand =
  | { kind: "help"; text: string }
  | { kind: "usage-error"; message: string }
  | { kind: "run"; command: StackCommand; args: string[]; settings: StackSettings };

const seeHelp = (command: StackCommand) =>
  `Usage: ${CLI_NAME} ${STACK_COMMANDS[command].usage.split(" | ")[0]} [flags]; ${CLI_NAME} ${command} --help lists them.`;

function isCommand(word: string): word is StackCommand {
  return Object.hasOwn(STACK_COMMANDS, word);
}

/**
 * Every setting at its default, as if nothing were given.
 *
 * @example
 * ```ts
 * defaultStackSettings().timeout; // 300
 * ```
 */
export function defaultStackSettings(): StackSettings {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(ALL_SETTINGS)) values[key] = (spec.schema as z.ZodType).parse(undefined);
  return values as StackSettings;
}

/**
 * Reads the command line and the environment; never throws. The first word
 * is the command (`help COMMAND` and `COMMAND --help` give its help); flags
 * may come anywhere after it; a flag the command does not take is an error.
 *
 * @example
 * ```ts
 * parseStackCommand(["logs", "grafana", "--tail", "20"], {});
 * // { kind: "run", command: "logs", args: ["grafana"], settings: { ..., tail: "20", follow: false } }
 * parseStackCommand(["up", "--delete-data"], {}).kind; // "usage-error"
 * ```
 */
export function parseStackCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedStackCommand {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: "usage-error", message: `stack: name a command\n\n${STACK_USAGE}` };
  if (first === "--help" || first === "-h") return { kind: "help", text: STACK_USAGE };
  if (first === "help") {
    if (rest.length === 0) return { kind: "help", text: STACK_USAGE };
    return isCommand(rest[0]!) ? { kind: "help", text: commandHelp(rest[0]) } : { kind: "usage-error", message: `stack: unknown command ${JSON.stringify(rest[0])}\n\n${STACK_USAGE}` };
  }
  if (!isCommand(first)) {
    const what = first.startsWith("-") ? `name a command before the flags (got ${first})` : `unknown command ${JSON.stringify(first)}`;
    return { kind: "usage-error", message: `stack: ${what}\n\n${STACK_USAGE}` };
  }
  const spec: StackCommandSpec = STACK_COMMANDS[first];
  const tableSpec: SettingsSpec = { ...GLOBAL_SETTINGS, ...Object.fromEntries(spec.settings.map((k) => [k, COMMAND_SETTINGS[k]])) };
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const setting of Object.values(tableSpec)) options[setting.flag] = { type: setting.boolean ? "boolean" : "string" };

  let tokens;
  try {
    tokens = parseArgs({ args: [...rest], options, strict: true, allowPositionals: true, tokens: true }).tokens;
  } catch (error) {
    // node:util's advice about "--" is noise here.
    const message = (error as Error).message.replace(/\. To specify a positional argument[\s\S]*$/, "");
    return { kind: "usage-error", message: `stack ${first}: ${message}\n${seeHelp(first)}` };
  }
  const positionals: string[] = [];
  const flags: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    else if (token.kind === "option") {
      if (token.name === "help") return { kind: "help", text: commandHelp(first) };
      flags.push(token.value === undefined ? `--${token.name}` : `--${token.name}=${token.value}`);
    }
  }
  const settings = parseSettings(tableSpec, env, flags);
  if (!settings.ok) return { kind: "usage-error", message: `stack ${first}: ${settings.message.replace(/\nRun with --help.*$/, "")}\n${seeHelp(first)}` };
  const values = { ...defaultStackSettings(), ...settings.values } as StackSettings;

  const { name, min, max } = spec.positionals;
  if (first === "scenario") {
    if (values.status && positionals.length > 0) return { kind: "usage-error", message: `stack scenario: give either a NAME or --status, not both\n${seeHelp(first)}` };
    if (!values.status && positionals.length === 0) return { kind: "usage-error", message: `stack scenario: name a scenario, or --status\n${seeHelp(first)}` };
  }
  if (positionals.length < min || positionals.length > max) {
    const problem = max === 0
      ? `takes no argument, got ${positionals.join(" ")}`
      : positionals.length < min
      ? `needs ${name}`
      : `takes at most ${max} ${name}, got ${positionals.join(" ")}`;
    return { kind: "usage-error", message: `stack ${first}: ${problem}\n${seeHelp(first)}` };
  }
  return { kind: "run", command: first, args: positionals, settings: values };
}

/**
 * The host the CLI connects to for a bind address: loopback when the
 * ports are published on every address, brackets around IPv6.
 *
 * @example
 * ```ts
 * connectHost("0.0.0.0"); // "127.0.0.1"
 * connectHost("192.168.1.5"); // "192.168.1.5"
 * connectHost("::1"); // "[::1]"
 * ```
 */
export function connectHost(bindAddress: string): string {
  if (bindAddress === "0.0.0.0" || bindAddress === "") return "127.0.0.1";
  if (bindAddress === "::") return "[::1]";
  return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
}

/**
 * The host ports of the stack, by settings key.
 *
 * @example
 * ```ts
 * const ports: StackPortNumbers = { grafanaPort: 3000, prometheusPort: 9090, alertmanagerPort: 9093, exporterPort: 8083, simulatorPort: 8000, receiverPort: 9095 };
 * ```
 */
export type StackPortNumbers = Record<PortKey, number>;

/**
 * The URL of each published service, keyed by service name, for
 * `bindAddress` and the ports (a port found published by a running
 * container may replace a setting).
 *
 * @example
 * ```ts
 * stackUrls({ ...defaultStackSettings() });
 * // { grafana: "http://127.0.0.1:3000/", prometheus: "http://127.0.0.1:9090/", alertmanager: "http://127.0.0.1:9093/",
 * //   "etl-metrics": "http://127.0.0.1:8083/metrics", "etl-simulator": "http://127.0.0.1:8000/metrics",
 * //   "etl-alert-receiver": "http://127.0.0.1:9095/notifications" }
 * ```
 */
export function stackUrls(settings: StackPortNumbers & { bindAddress: string }): Record<string, string> {
  const host = connectHost(settings.bindAddress);
  return Object.fromEntries(PUBLISHED_PORTS.map((p) => [p.service, `http://${host}:${settings[p.key]}${p.path}`]));
}

/**
 * What was found about one port before `up`: whether it could be bound, and
 * whether a running container of this stack is the one holding it.
 *
 * @example
 * ```ts
 * const probe: PortProbe = { key: "grafanaPort", port: 3000, free: false, heldByStack: true };
 * ```
 */
export interface PortProbe {
  key: PortKey;
  port: number;
  free: boolean;
  heldByStack: boolean;
}

/**
 * Ports given twice: each message names both variables.
 *
 * @example
 * ```ts
 * repeatedPorts({ ...defaultStackSettings(), exporterPort: 3000 });
 * // ["ETL_GRAFANA_PORT and ETL_EXPORTER_PORT are both 3000: give each service its own port"]
 * ```
 */
export function repeatedPorts(ports: StackPortNumbers): string[] {
  const problems: string[] = [];
  PUBLISHED_PORTS.forEach((a, i) => {
    for (const b of PUBLISHED_PORTS.slice(i + 1)) {
      if (ports[a.key] === ports[b.key]) problems.push(`${a.env} and ${b.env} are both ${ports[a.key]}: give each service its own port`);
    }
  });
  return problems;
}

/**
 * The messages for ports taken by something other than this stack, each
 * naming the port, the service that wanted it and the variable to change.
 *
 * @example
 * ```ts
 * takenPorts([{ key: "grafanaPort", port: 3000, free: false, heldByStack: false }], "127.0.0.1");
 * // ["port 3000 on 127.0.0.1 (Grafana) is taken by another program: set ETL_GRAFANA_PORT (or --grafana-port) to a free port"]
 * ```
 */
export function takenPorts(probes: readonly PortProbe[], bindAddress: string): string[] {
  return probes.filter((p) => !p.free && !p.heldByStack).map((p) => {
    const spec = byKey(p.key);
    return `port ${p.port} on ${bindAddress} (${spec.title}) is taken by another program: set ${spec.env} (or --${spec.flag}) to a free port`;
  });
}

/**
 * A credential as `up` prints it: what it opens, the user, the password's file.
 *
 * @example
 * ```ts
 * const line: CredentialLine = { opens: "Grafana", user: "admin", passwordFile: "secrets/grafana_admin_password" };
 * ```
 */
export interface CredentialLine {
  opens: string;
  user: string;
  passwordFile: string;
}

/**
 * What `up` prints once the services are ready: the URL of each service
 * started (by service name, in the order of {@linkcode PUBLISHED_PORTS}),
 * then which user and password file open what. It takes no password, so it
 * cannot print one.
 *
 * @example
 * ```ts
 * readySummary({ project: "etl-monitoring", urls: { grafana: "http://127.0.0.1:3000/" }, bindAddress: "127.0.0.1",
 *   credentials: [{ opens: "Grafana", user: "admin", passwordFile: "secrets/grafana_admin_password" }], reference: "secrets/CREDENTIALS.md" });
 * // ["The stack is up (project etl-monitoring):", "  Grafana  http://127.0.0.1:3000/", "",
 * //  "Credentials (user, the file holding the password, what it opens; passwords are never printed):",
 * //  "  admin  secrets/grafana_admin_password  Grafana", "Reference: secrets/CREDENTIALS.md"]
 * ```
 */
export function readySummary(input: {
  project: string;
  urls: Readonly<Record<string, string>>;
  bindAddress: string;
  credentials: readonly CredentialLine[];
  reference: string;
}): string[] {
  const urls = PUBLISHED_PORTS.filter((p) => input.urls[p.service] !== undefined).map((p) => [p.title, input.urls[p.service]!]);
  const lines = [`The stack is up (project ${input.project}):`, ...textTable(urls), ""];
  lines.push("Credentials (user, the file holding the password, what it opens; passwords are never printed):");
  lines.push(...textTable(input.credentials.map((c) => [c.user, c.passwordFile, c.opens.replaceAll("`", "")])));
  lines.push(`Reference: ${input.reference}`);
  if (input.bindAddress !== "127.0.0.1" && input.bindAddress !== "::1") {
    lines.push(
      "",
      `Published on ${input.bindAddress}: Alertmanager and the exporter ask for no password, and nothing is TLS; put a proxy with TLS in front.`,
    );
  }
  return lines;
}
