/**
 * The command lines the management CLI runs, built without running them:
 * which Compose to use (v2 `docker compose` or v1 `docker-compose`), the
 * arguments of each Compose call, the environment Compose gets, and the
 * services a `compose up` starts (those named and what they depend on,
 * read from `compose config`).
 *
 * @example
 * ```ts
 * import { composeArgv, upArgs } from "./compose_command.ts";
 * const target = { command: ["docker", "compose"], project: "etl-monitoring", file: "/repo/deploy/compose/docker-compose.yml" };
 * composeArgv(target, upArgs(["grafana"]));
 * // ["docker", "compose", "-p", "etl-monitoring", "-f", "/repo/deploy/compose/docker-compose.yml", "up", "-d", "grafana"]
 * ```
 * @module
 */
import { parse as parseYaml } from "yaml";
import { PUBLISHED_PORTS, type StackPortNumbers } from "./published_ports.ts";

/**
 * Compose v2, the Docker CLI plugin.
 *
 * @example
 * ```ts
 * COMPOSE_V2; // ["docker", "compose"]
 * ```
 */
export const COMPOSE_V2: readonly string[] = ["docker", "compose"];

/**
 * Compose v1, the standalone Python program.
 *
 * @example
 * ```ts
 * COMPOSE_V1; // ["docker-compose"]
 * ```
 */
export const COMPOSE_V1: readonly string[] = ["docker-compose"];

/**
 * The decision of {@linkcode chooseCompose}: the command's words, or why there is none.
 *
 * @example
 * ```ts
 * const choice: ComposeChoice = { ok: true, command: ["docker-compose"], reason: "docker compose failed; docker-compose answered" };
 * ```
 */
export type ComposeChoice = { ok: true; command: string[]; reason: string } | { ok: false; message: string };

/**
 * Which Compose to run. `forced` (`ETL_COMPOSE`) is split into words and
 * taken as it is; otherwise `answers(command)` tells whether
 * `command version` succeeded, asked for v2 first and v1 only when v2
 * failed.
 *
 * @example
 * ```ts
 * chooseCompose(undefined, (c) => c.length === 1); // { ok: true, command: ["docker-compose"], reason: "docker compose failed; docker-compose answered" }
 * chooseCompose("docker  compose", () => false); // { ok: true, command: ["docker", "compose"], reason: "ETL_COMPOSE" }
 * chooseCompose(undefined, () => false).ok; // false
 * ```
 */
export function chooseCompose(forced: string | undefined, answers: (command: readonly string[]) => boolean): ComposeChoice {
  if (forced !== undefined && forced.trim() !== "") return { ok: true, command: forced.trim().split(/\s+/), reason: "ETL_COMPOSE" };
  if (answers(COMPOSE_V2)) return { ok: true, command: [...COMPOSE_V2], reason: "docker compose answered" };
  if (answers(COMPOSE_V1)) return { ok: true, command: [...COMPOSE_V1], reason: "docker compose failed; docker-compose answered" };
  return {
    ok: false,
    message: "Docker Compose not found: neither `docker compose version` (the v2 plugin) nor `docker-compose version` (v1) " +
      "succeeded. Install the Compose plugin (package docker-compose-plugin) or docker-compose, or set ETL_COMPOSE to the command.",
  };
}

/**
 * The command words `version` is asked with, for {@linkcode chooseCompose}'s probe.
 *
 * @example
 * ```ts
 * versionArgv(COMPOSE_V2); // ["docker", "compose", "version"]
 * ```
 */
export function versionArgv(command: readonly string[]): string[] {
  return [...command, "version"];
}

/**
 * Which Compose, project and file every call uses.
 *
 * @example
 * ```ts
 * const target: ComposeTarget = { command: ["docker-compose"], project: "etl-monitoring", file: "/repo/deploy/compose/docker-compose.yml" };
 * ```
 */
export interface ComposeTarget {
  command: readonly string[];
  project: string;
  file: string;
  /** Files given after `file`, each overriding what comes before (the TLS mode's). */
  overrides?: readonly string[];
}

/**
 * The whole argv of a Compose call: the command, `-p PROJECT -f FILE` (and
 * `-f` for each override), then `args`.
 *
 * @example
 * ```ts
 * composeArgv({ command: ["docker-compose"], project: "p", file: "/c.yml" }, ["ps", "-a", "-q"]);
 * // ["docker-compose", "-p", "p", "-f", "/c.yml", "ps", "-a", "-q"]
 * composeArgv({ command: ["docker-compose"], project: "p", file: "/c.yml", overrides: ["/c.tls.yml"] }, ["config"]);
 * // ["docker-compose", "-p", "p", "-f", "/c.yml", "-f", "/c.tls.yml", "config"]
 * ```
 */
export function composeArgv(target: ComposeTarget, args: readonly string[]): string[] {
  return [...target.command, "-p", target.project, "-f", target.file, ...(target.overrides ?? []).flatMap((f) => ["-f", f]), ...args];
}

/**
 * `compose config`: the resolved file, read for the services and their dependencies.
 *
 * @example
 * ```ts
 * configArgs(); // ["config"]
 * ```
 */
export function configArgs(): string[] {
  return ["config"];
}

/**
 * `compose build`, all services or those named.
 *
 * @example
 * ```ts
 * buildArgs([]); // ["build"]
 * buildArgs(["etl-metrics"]); // ["build", "etl-metrics"]
 * ```
 */
export function buildArgs(services: readonly string[]): string[] {
  return ["build", ...services];
}

/**
 * `compose up -d`, in the background; Compose also starts what the named services depend on.
 *
 * @example
 * ```ts
 * upArgs([]); // ["up", "-d"]
 * ```
 */
export function upArgs(services: readonly string[]): string[] {
  return ["up", "-d", ...services];
}

/**
 * `compose down`; `--volumes` only when the data is to go too.
 *
 * @example
 * ```ts
 * downArgs(false); // ["down"]
 * downArgs(true); // ["down", "--volumes"]
 * ```
 */
export function downArgs(deleteData: boolean): string[] {
  return deleteData ? ["down", "--volumes"] : ["down"];
}

/**
 * `compose ps -a -q`: the ids of every container of the project, stopped
 * ones included (v2 lists only running ones without `-a`; v1 takes `-a` too).
 *
 * @example
 * ```ts
 * psArgs(); // ["ps", "-a", "-q"]
 * ```
 */
export function psArgs(): string[] {
  return ["ps", "-a", "-q"];
}

/**
 * `compose restart`, `stop` or `start` of the named services.
 *
 * @example
 * ```ts
 * serviceArgs("restart", ["etl-simulator", "etl-metrics"]); // ["restart", "etl-simulator", "etl-metrics"]
 * ```
 */
export function serviceArgs(verb: "restart" | "stop" | "start", services: readonly string[]): string[] {
  return [verb, ...services];
}

/**
 * `compose logs` with the CLI's flags; `noColor` for output that is not a terminal.
 *
 * @example
 * ```ts
 * logsArgs({ tail: "100", follow: false }); // ["logs", "--tail", "100"]
 * logsArgs({ service: "grafana", tail: "all", follow: true }); // ["logs", "--tail", "all", "--follow", "grafana"]
 * logsArgs({ service: "grafana", tail: "20", follow: false, noColor: true }); // ["logs", "--tail", "20", "--no-color", "grafana"]
 * ```
 */
export function logsArgs(options: { service?: string; tail: string; follow: boolean; noColor?: boolean }): string[] {
  return [
    "logs",
    "--tail",
    options.tail,
    ...(options.follow ? ["--follow"] : []),
    ...(options.noColor ? ["--no-color"] : []),
    ...(options.service ? [options.service] : []),
  ];
}

/**
 * What {@linkcode composeEnvironment} adds to the caller's environment.
 *
 * @example
 * ```ts
 * const input: ComposeEnvironmentInput = {
 *   secretsDir: "/repo/secrets", npmRegistry: undefined, bindAddress: "127.0.0.1",
 *   ports: { grafanaPort: 3000, prometheusPort: 9090, alertmanagerPort: 9093, exporterPort: 8083, simulatorPort: 8000, receiverPort: 9095 },
 * };
 * ```
 */
export interface ComposeEnvironmentInput {
  /** Absolute. */
  secretsDir: string;
  /** `npm config get registry` of this machine, when npm answered. */
  npmRegistry: string | undefined;
  bindAddress: string;
  ports: StackPortNumbers;
}

/**
 * The environment Compose runs with: the caller's (DOCKER_HOST and every
 * other variable pass through), then the secrets folder made absolute, the
 * bind address and the ports as the CLI resolved them (so both agree), and
 * `ETL_NPM_REGISTRY` from npm unless the caller set one.
 *
 * @example
 * ```ts
 * composeEnvironment({ DOCKER_HOST: "unix:///d.sock" }, { secretsDir: "/r/secrets", npmRegistry: undefined, bindAddress: "127.0.0.1", ports });
 * // { DOCKER_HOST: "unix:///d.sock", ETL_SECRETS_DIR: "/r/secrets", ETL_BIND_ADDRESS: "127.0.0.1", ETL_GRAFANA_PORT: "3000", ... }
 * ```
 */
export function composeEnvironment(
  caller: Readonly<Record<string, string | undefined>>,
  input: ComposeEnvironmentInput,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(caller)) if (value !== undefined) env[key] = value;
  env.ETL_SECRETS_DIR = input.secretsDir;
  env.ETL_BIND_ADDRESS = input.bindAddress;
  for (const p of PUBLISHED_PORTS) env[p.env] = String(input.ports[p.key]);
  if ((env.ETL_NPM_REGISTRY ?? "") === "" && input.npmRegistry !== undefined) env.ETL_NPM_REGISTRY = input.npmRegistry;
  return env;
}

/**
 * The registry URL of `npm config get registry`'s output, or undefined when
 * it printed nothing usable (npm prints `undefined` for an unset key).
 *
 * @example
 * ```ts
 * npmRegistryFrom("https://registry.example/\n"); // "https://registry.example/"
 * npmRegistryFrom("undefined\n"); // undefined
 * ```
 */
export function npmRegistryFrom(stdout: string): string | undefined {
  const value = stdout.trim().split(/\r?\n/).at(-1)?.trim() ?? "";
  return /^https?:\/\/\S+$/.test(value) ? value : undefined;
}

/**
 * A `compose config` output read: each service and what it depends on (v1
 * and v2 both print `depends_on` as a map; a list is read too), and the
 * declared volumes. Throws an Error when the text is not a Compose file
 * with services.
 *
 * @example
 * ```ts
 * readComposeConfig("services:\n  a:\n    depends_on:\n      b: {condition: service_started}\n  b: {}\nvolumes:\n  d: {name: x-d}\n");
 * // { services: Map { "a" => ["b"], "b" => [] }, volumes: { d: { name: "x-d" } } }
 * ```
 */
export function readComposeConfig(configYaml: string): { services: Map<string, string[]>; volumes: Record<string, { name?: unknown } | null> } {
  let config: { services?: Record<string, { depends_on?: unknown } | null>; volumes?: Record<string, { name?: unknown } | null> } | null;
  try {
    config = parseYaml(configYaml);
  } catch (error) {
    throw new Error(`compose config printed something that is not YAML: ${(error as Error).message}`);
  }
  if (config === null || typeof config !== "object" || config.services === undefined || typeof config.services !== "object") {
    throw new Error("compose config printed no services");
  }
  const services = new Map<string, string[]>();
  for (const [name, service] of Object.entries(config.services)) {
    const deps = service?.depends_on;
    services.set(name, Array.isArray(deps) ? deps.map(String) : deps !== null && typeof deps === "object" ? Object.keys(deps) : []);
  }
  return { services, volumes: config.volumes ?? {} };
}

/**
 * The services `compose up` starts for `selected` (every service when
 * empty): those named and, transitively, what they depend on, in the
 * order of `order` first, then the rest by name. Throws an Error naming a
 * service the file does not have.
 *
 * @example
 * ```ts
 * const services = new Map([["grafana", ["prometheus"]], ["prometheus", []], ["etl-metrics", []]]);
 * servicesToStart(services, ["grafana"], ["prometheus", "grafana"]); // ["prometheus", "grafana"]
 * servicesToStart(services, [], []); // ["etl-metrics", "grafana", "prometheus"]
 * ```
 */
export function servicesToStart(services: ReadonlyMap<string, readonly string[]>, selected: readonly string[], order: readonly string[]): string[] {
  const unknown = selected.filter((s) => !services.has(s));
  if (unknown.length > 0) {
    throw new Error(`no service ${unknown.join(", ")} in the Compose file; its services: ${[...services.keys()].sort().join(", ")}`);
  }
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dep of services.get(name) ?? []) visit(dep);
  };
  for (const name of selected.length > 0 ? selected : [...services.keys()]) visit(name);
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return [...wanted].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
