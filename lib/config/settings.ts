/**
 * Settings: each one an environment variable and a flag (the flag wins),
 * with a default and a help line, parsed once by zod at start-up. A bad
 * value gives a message naming the setting and the value, never a stack trace.
 *
 * @example
 * ```ts
 * import { parseSettings, COMMON_SETTINGS } from "./settings.ts";
 * const result = parseSettings(COMMON_SETTINGS, { ETL_SPEED: "60" }, ["--exporter-port", "9100"]);
 * if (result.ok) result.values.speed; // 60
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import * as z from "zod";
import { DEFAULT_MAX_AHEAD_MS, DEFAULT_MAX_PIPELINES } from "../etl/limits.ts";

/** One setting: where it is read from and how it is checked. */
export interface SettingSpec<T = unknown> {
  /** Environment variable; absent for flags only (like `--once`). */
  env?: string;
  flag: string;
  help: string;
  /** Shown in `--help`; the schema's default is what applies. */
  defaultText: string;
  /** Takes the raw string (or `undefined` when not given). */
  schema: z.ZodType<T>;
  /** A flag with no value, such as `--once`. */
  boolean?: boolean;
}

/** A table of settings by key. */
export type SettingsSpec = Record<string, SettingSpec>;

/** The parsed values of a table. */
export type SettingsOf<S extends SettingsSpec> = { [K in keyof S]: S[K] extends SettingSpec<infer T> ? T : never };

/** A parse either gives the values, or says what is wrong (and whether help was asked for). */
export type SettingsResult<S extends SettingsSpec> =
  | { ok: true; values: SettingsOf<S> }
  | { ok: false; help: boolean; message: string };

const port = (fallback: number) =>
  z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1).max(65535).default(fallback);

/** Settings both workers read. */
export const COMMON_SETTINGS = {
  dataDir: {
    env: "ETL_DATA_DIR",
    flag: "data-dir",
    help: "Folder of the logs (logs/*.log) and the exporter's checkpoint.",
    defaultText: "./data",
    schema: z.string().min(1, "must not be empty").default("./data"),
  },
  speed: {
    env: "ETL_SPEED",
    flag: "speed",
    help: "Time compression of the simulator: 60 simulates a minute per second.",
    defaultText: "1",
    schema: z.coerce.number({ error: "must be a number" }).positive("must be above 0").max(10_000).default(1),
  },
  exporterPort: {
    env: "EXPORTER_PORT",
    flag: "exporter-port",
    help: "Port of the exporter (etl-metrics): /metrics, /health.",
    defaultText: "8083",
    schema: port(8083),
  },
  simulatorPort: {
    env: "SIMULATOR_PORT",
    flag: "simulator-port",
    help: "Port of the simulator's endpoint (/metrics behind basic auth).",
    defaultText: "8000",
    schema: port(8000),
  },
  host: {
    env: "ETL_HOST",
    flag: "host",
    help: "Address to listen on; 0.0.0.0 inside containers.",
    defaultText: "127.0.0.1",
    schema: z.string().min(1, "must not be empty").default("127.0.0.1"),
  },
  metricsUser: {
    env: "ETL_METRICS_USER",
    flag: "metrics-user",
    help: "User name for the simulator's /metrics.",
    defaultText: "metrics",
    schema: z.string().regex(/^[^:\s]{1,64}$/, "must be 1-64 characters without ':' or spaces").default("metrics"),
  },
  metricsPasswordFile: {
    env: "ETL_METRICS_PASSWORD_FILE",
    flag: "metrics-password-file",
    help: "File with the password of the simulator's /metrics, or its bcrypt hash; made on first run when unset.",
    defaultText: "./secrets/metrics_password",
    schema: z.string().min(1).optional(),
  },
  logLevel: {
    env: "ETL_LOG_LEVEL",
    flag: "log-level",
    help: "Level of the workers' own logs: debug, info, warning, error.",
    defaultText: "info",
    schema: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]).default("info"),
  },
} satisfies SettingsSpec;

/**
 * The exporter's bounds on what its input may make it hold (see
 * lib/etl/limits.ts for the reasoning behind each default).
 */
export const INGEST_LIMIT_SETTINGS = {
  maxPipelines: {
    env: "ETL_MAX_PIPELINES",
    flag: "max-pipelines",
    help: "Pipelines tracked at most; lines naming more are counted as dropped (pipeline_limit), never kept. " +
      "Each takes ~50 KB of memory and ~16 KB of checkpoint.",
    defaultText: String(DEFAULT_MAX_PIPELINES),
    schema: z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1).max(100_000)
      .default(DEFAULT_MAX_PIPELINES),
  },
  maxClockAheadSeconds: {
    env: "ETL_MAX_CLOCK_AHEAD_SECONDS",
    flag: "max-clock-ahead-seconds",
    help: "Events dated further ahead of the exporter's clock are counted as dropped (clock_ahead); " +
      "nearer ones count as happening now.",
    defaultText: String(DEFAULT_MAX_AHEAD_MS / 1000),
    schema: z.coerce.number({ error: "must be a number" }).min(0).max(86_400).default(DEFAULT_MAX_AHEAD_MS / 1000),
  },
} satisfies SettingsSpec;

/**
 * Reads `spec` from environment variables and command-line flags.
 * `--help` gives `{ ok: false, help: true }` with the help text as message.
 */
export function parseSettings<S extends SettingsSpec>(
  spec: S,
  env: Record<string, string | undefined>,
  argv: readonly string[],
  usage = "Settings (flag, environment variable, default):",
): SettingsResult<S> {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const setting of Object.values(spec)) options[setting.flag] = { type: setting.boolean ? "boolean" : "string" };
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof flags;
  } catch (error) {
    return { ok: false, help: false, message: `${(error as Error).message}\nRun with --help to list the settings.` };
  }
  if (flags.help) return { ok: false, help: true, message: helpText(spec, usage) };

  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(spec)) {
    const fromFlag = flags[setting.flag];
    const fromEnv = setting.env === undefined ? undefined : env[setting.env];
    const raw = fromFlag ?? (fromEnv === "" ? undefined : fromEnv);
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env ?? `--${setting.flag}`;
      const message = parsed.error.issues.map((i) => i.message).join("; ");
      problems.push(`${source}=${JSON.stringify(raw)}: ${message}`);
    }
  }
  if (problems.length > 0) return { ok: false, help: false, message: `Bad settings:\n  ${problems.join("\n  ")}` };
  return { ok: true, values: values as SettingsOf<S> };
}

/** The `--help` text: every flag with its variable, default and help line. */
export function helpText(spec: SettingsSpec, usage: string): string {
  const rows = Object.values(spec).map((s) => {
    const name = `--${s.flag}${s.boolean ? "" : " VALUE"}`;
    const env = s.env ? `  (${s.env})` : "";
    return `  ${name}${env}\n      ${s.help} Default: ${s.defaultText}.`;
  });
  return `${usage}\n${rows.join("\n")}`;
}
