/**
 * Switching the running simulator's scenario through its
 * `/control/scenario` endpoint, shared by `npm run scenario`
 * (`commands/scenario/main.ts`) and `npm run stack -- scenario`: the scenarios'
 * help, the command line of `npm run scenario`, and the request itself with
 * a clear message for each way it can fail.
 *
 * Exit codes: 0 done; 1 the simulator could not be asked (not running, wrong
 * password, password file missing, server error); 2 the command was wrong
 * (bad flags, no scenario, a scenario the simulator refuses).
 *
 * @example
 * ```ts
 * import { runScenarioCommand } from "./scenario_cli.ts";
 * const line = await runScenarioCommand({
 *   url: "http://127.0.0.1:8000", user: "control", passwordFile: "secrets/control_password", scenario: "stall",
 * });
 * ```
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { isBcryptHash } from "../../lib/auth/credential_verifier.ts";
import { basicAuthorization } from "../../lib/auth/basic_authorization.ts";
import type { Scenario } from "../../lib/simulator/profile.ts";
import { readPassword } from "../../workers/secret_files.ts";

/**
 * What each scenario does and the alert it is meant to provoke (the rules
 * of `prometheus/rules/etl-alerts.yml`), shown by `--help`. Typed by
 * {@linkcode Scenario} so a new scenario does not compile until it is
 * described here.
 *
 * @example
 * ```ts
 * SCENARIO_HELP.stall; // "no event at all, the endpoint still serves -> EtlHealthCheckFailed, ..."
 * ```
 */
export const SCENARIO_HELP: Record<Scenario, string> = {
  normal: "the profile (about 10 records/s, 1 failure a minute) -> no alert",
  stall: "no event at all, the endpoint still serves -> EtlHealthCheckFailed, then EtlNoSuccessIn10Minutes, EtlLowThroughput",
  crash: "the simulator exits with code 3 after 1 s -> EtlMetricsEndpointDown (job etl-simulator)",
  slow: "2 records/s, files take 25-250 s -> EtlSlowProcessing",
  "error-burst": "30 failures a minute, nearly every file fails -> EtlHighFailureRate, EtlHealthCheckFailed",
  "low-throughput": "files of 5-20 records, 20 s pauses, no failures -> EtlLowThroughput",
  late: "batch pipelines skip their runs -> EtlPipelineLate after the deadline",
  hung: "the next batch run starts and never finishes, heartbeating -> EtlRunTooLong",
  empty: "batch runs succeed with 0 records -> EtlEmptyRun",
  "volume-drop": "batch runs have a fifth of the usual records -> EtlVolumeDrop",
};

/**
 * The settings of one run, from flags and environment.
 *
 * @example
 * ```ts
 * const options: ScenarioCliOptions = {
 *   url: "http://127.0.0.1:8000", user: "control", passwordFile: "secrets/control_password", scenario: "stall",
 * };
 * ```
 */
export interface ScenarioCliOptions {
  url: string;
  user: string;
  passwordFile: string;
  /** Undefined for `--status`. */
  scenario?: string;
}

/**
 * The outcome of parsing the command line: options to run with, or a
 * message and the exit code to stop with (0 for `--help`).
 *
 * @example
 * ```ts
 * const parsed: ParsedCommand = { ok: false, code: 2, message: "name a scenario, or --status" };
 * ```
 */
export type ParsedCommand = { ok: true; options: ScenarioCliOptions } | { ok: false; code: 0 | 2; message: string };

const USAGE = `Usage: npm run scenario -- [flags] SCENARIO
       npm run scenario -- [flags] --status

Switches the running simulator's scenario (PUT /control/scenario), or shows it.

Scenarios:
${Object.entries(SCENARIO_HELP).map(([name, help]) => `  ${name.padEnd(15)} ${help}`).join("\n")}

Flags:
  --status               show the running scenario and since when
  --url URL              the simulator (SIMULATOR_URL; default http://127.0.0.1:$SIMULATOR_PORT, port 8000)
  --user USER            control user (ETL_CONTROL_USER; default control)
  --password-file FILE   file with the control password (ETL_CONTROL_PASSWORD_FILE; default secrets/control_password)
  --help                 this text

Exit codes: 0 done, 1 the simulator could not be asked, 2 the command was wrong.`;

/**
 * Reads the command line and the environment; never throws and never exits.
 *
 * @example
 * ```ts
 * parseCommand(["stall"], {}); // { ok: true, options: { url: "http://127.0.0.1:8000", user: "control", ..., scenario: "stall" } }
 * parseCommand(["--status"], { SIMULATOR_URL: "http://127.0.0.1:9000" }).ok; // true
 * parseCommand([], {}); // { ok: false, code: 2, message: "name a scenario, or --status ..." }
 * ```
 */
export function parseCommand(argv: readonly string[], env: Record<string, string | undefined>): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        status: { type: "boolean" },
        url: { type: "string" },
        user: { type: "string" },
        "password-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return { ok: false, code: 2, message: `${(error as Error).message}\n\n${USAGE}` };
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: false, code: 0, message: USAGE };
  if (values.status && positionals.length > 0) {
    return { ok: false, code: 2, message: `give either a scenario or --status, not both\n\n${USAGE}` };
  }
  if (!values.status && positionals.length !== 1) {
    const problem = positionals.length === 0 ? "name a scenario, or --status" : `one scenario at a time, got ${positionals.join(" ")}`;
    return { ok: false, code: 2, message: `${problem}\n\n${USAGE}` };
  }
  const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);
  const url = (values.url ?? nonEmpty(env.SIMULATOR_URL) ?? `http://127.0.0.1:${nonEmpty(env.SIMULATOR_PORT) ?? "8000"}`)
    .replace(/\/+$/, "");
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return { ok: false, code: 2, message: `--url must be an http:// or https:// URL, got ${JSON.stringify(url)}` };
  }
  return {
    ok: true,
    options: {
      url,
      user: values.user ?? nonEmpty(env.ETL_CONTROL_USER) ?? "control",
      passwordFile: values["password-file"] ?? nonEmpty(env.ETL_CONTROL_PASSWORD_FILE) ?? "secrets/control_password",
      scenario: values.status ? undefined : positionals[0],
    },
  };
}

/**
 * A failure of {@linkcode runScenarioCommand}, with the exit code it should
 * end the command with (1 the simulator could not be asked, 2 it refused).
 *
 * @example
 * ```ts
 * try { await runScenarioCommand(options); } catch (e) { if (e instanceof ScenarioError) process.exitCode = e.code; }
 * ```
 */
export class ScenarioError extends Error {
  override name = "ScenarioError";
  constructor(message: string, readonly code: 1 | 2) {
    super(message);
  }
}

/**
 * What the messages of {@linkcode runScenarioCommand} tell the reader to
 * run, for the way the simulator was started.
 *
 * @example
 * ```ts
 * const hints: ScenarioHints = {
 *   start: "npm run stack -- up", passwordMade: "npm run stack -- up makes it", crash: "its container restarts",
 * };
 * ```
 */
export interface ScenarioHints {
  /** How to start the simulator, after "is it running?". */
  start: string;
  /** Who makes the control password file, after "not found". */
  passwordMade: string;
  /** What happens after `crash`. */
  crash: string;
}

/**
 * The hints of `npm run scenario`: the simulator of `npm run dev`.
 *
 * @example
 * ```ts
 * DEV_HINTS.start; // "npm run dev"
 * ```
 */
export const DEV_HINTS: ScenarioHints = {
  start: "npm run dev",
  passwordMade: "the simulator makes it on first run: npm run dev",
  crash: "npm run dev keeps the exporter running",
};

async function readControlPassword(file: string, hints: ScenarioHints): Promise<string> {
  let password: string;
  try {
    password = await readPassword(file, { what: "control password", whenMissing: hints.passwordMade });
  } catch (error) {
    throw new ScenarioError((error as Error).message, 1);
  }
  if (isBcryptHash(password.trim())) {
    throw new ScenarioError(`${file} holds a bcrypt hash, which the simulator checks against; give the password's file with --password-file`, 1);
  }
  return password;
}

/**
 * Talks to the simulator once and returns the line to print; throws a
 * {@linkcode ScenarioError} carrying `code` (1 or 2) with a message for the
 * user otherwise, its hints saying how to start the simulator.
 *
 * @example
 * ```ts
 * const line = await runScenarioCommand({ url: "http://127.0.0.1:8000", user: "control", passwordFile: "secrets/control_password", scenario: "stall" });
 * // "scenario stall since 2026-11-23T10:00:00.000Z"
 * ```
 */
export async function runScenarioCommand(
  options: ScenarioCliOptions,
  fetcher: typeof fetch = fetch,
  hints: ScenarioHints = DEV_HINTS,
): Promise<string> {
  const password = await readControlPassword(options.passwordFile, hints);
  const authorization = basicAuthorization(options.user, password);
  const endpoint = `${options.url}/control/scenario`;
  let response: Response;
  try {
    response = await fetcher(endpoint, options.scenario === undefined
      ? { headers: { authorization }, signal: AbortSignal.timeout(10_000) }
      : {
        method: "PUT",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify({ scenario: options.scenario }),
        signal: AbortSignal.timeout(10_000),
      });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const message = cause?.message ?? (error as Error).message;
    // Node names the error in `cause.code`; Deno only says it in a long message.
    const why = cause?.code ?? (/connection refused/i.test(message) ? "ECONNREFUSED" : message);
    throw new ScenarioError(`cannot reach ${options.url} (${why}), is it running? (${hints.start})`, 1);
  }
  const text = await response.text();
  let body: { scenario?: string; since?: string; error?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not every answer is ours (a proxy, another server on the port): the status decides below.
  }
  if (response.status === 401) {
    throw new ScenarioError(`wrong control password in ${options.passwordFile} (or user ${JSON.stringify(options.user)}), refused by ${endpoint}`, 1);
  }
  if (response.status === 400) throw new ScenarioError(`the simulator refused: ${body.error ?? text.trim()}`, 2);
  if (response.status === 404) {
    throw new ScenarioError(`${endpoint} not found: is ${options.url} the simulator, and a version with the control endpoint?`, 1);
  }
  if (!response.ok || typeof body.scenario !== "string") {
    throw new ScenarioError(`unexpected answer from ${endpoint}: HTTP ${response.status} ${body.error ?? text.trim().slice(0, 200)}`, 1);
  }
  const line = `scenario ${body.scenario} since ${body.since}`;
  return body.scenario === "crash" && options.scenario === "crash"
    ? `${line}\nthe simulator exits with code 3 in about 1 s (${hints.crash})`
    : line;
}

/**
 * Runs the command line, prints the outcome and returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), process.env);
 * ```
 */
export async function main(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  const parsed = parseCommand(argv, env);
  if (!parsed.ok) {
    (parsed.code === 0 ? process.stdout : process.stderr).write(parsed.message + "\n");
    return parsed.code;
  }
  try {
    process.stdout.write((await runScenarioCommand(parsed.options)) + "\n");
    return 0;
  } catch (error) {
    process.stderr.write(`scenario: ${(error as Error).message}\n`);
    return error instanceof ScenarioError ? error.code : 1;
  }
}
