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
  | { ok: true; values: SettingsOf<S>; sources: { [K in keyof S]: SettingSource } }
  | { ok: false; help: boolean; message: string };

/** Where a setting's value came from. */
export type SettingSource = "flag" | "env" | "default";

/**
 * The name to give in advice about a setting: the one that was used, since
 * a flag wins over its variable ("set EXPORTER_PORT" would change nothing).
 */
export function settingName(setting: SettingSpec, source: SettingSource): string {
  if (source === "flag" || setting.env === undefined) return `--${setting.flag}`;
  return source === "env" ? setting.env : `--${setting.flag} (or ${setting.env})`;
}

/**
 * A number within bounds, every refusal stating both ("must be a whole number
 * 1-65535"), so the message alone says what would be accepted.
 */
export function boundedNumber(
  min: number,
  max: number,
  options: { integer?: boolean; aboveMin?: boolean } = {},
): z.ZodCoercedNumber {
  const what = options.integer ? "a whole number" : "a number";
  const message = `must be ${what} ${options.aboveMin ? `above ${min}, at most ${max}` : `${min}-${max}`}`;
  let schema = z.coerce.number({ error: message });
  if (options.integer) schema = schema.int(message);
  schema = options.aboveMin ? schema.gt(min, message) : schema.min(min, message);
  return schema.max(max, message);
}

/** A TCP port to listen on, with its default. */
export const portSetting = (fallback: number) => boundedNumber(1, 65535, { integer: true }).default(fallback);

/** The levels of the workers' own logs: the log contract's spelling (`warn`, not LogTape's `warning`). */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A `--log-level` value, as the log contract spells it. */
export type WorkerLogLevel = (typeof LOG_LEVELS)[number];

// `warning` (LogTape's name, accepted before) is still read as `warn`, but not listed.
const logLevel = z.preprocess(
  (value) => (value === "warning" ? "warn" : value),
  z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }),
);

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
    schema: boundedNumber(0, 10_000, { aboveMin: true }).default(1),
  },
  exporterPort: {
    env: "EXPORTER_PORT",
    flag: "exporter-port",
    help: "Port of the exporter (etl-metrics): /metrics, /health.",
    defaultText: "8083",
    schema: portSetting(8083),
  },
  simulatorPort: {
    env: "SIMULATOR_PORT",
    flag: "simulator-port",
    help: "Port of the simulator's endpoint (/metrics behind basic auth).",
    defaultText: "8000",
    schema: portSetting(8000),
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
    help: `Level of the workers' own logs: ${LOG_LEVELS.join(", ")}.`,
    defaultText: "info",
    schema: logLevel.default("info"),
  },
} satisfies SettingsSpec;

/** How the workers write their own logs; every worker takes it (`startWorker` adds it). */
export const LOG_FORMAT_SETTING = {
  env: "ETL_LOG_FORMAT",
  flag: "log-format",
  help: "Format of the workers' own logs on stderr: text (for a person), json (JSON lines, for a collector), or auto: text on a terminal, else json.",
  defaultText: "auto",
  schema: z.enum(["auto", "text", "json"]).default("auto"),
} satisfies SettingSpec;

/** The flags of a command line, by flag name, as `node:util`'s `parseArgs` reads them. */
export type FlagValues = Record<string, string | boolean | undefined>;

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
    schema: boundedNumber(1, 100_000, { integer: true }).default(DEFAULT_MAX_PIPELINES),
  },
  maxClockAheadSeconds: {
    env: "ETL_MAX_CLOCK_AHEAD_SECONDS",
    flag: "max-clock-ahead-seconds",
    help: "Events dated further ahead of the exporter's clock are counted as dropped (clock_ahead); " +
      "nearer ones count as happening now.",
    defaultText: String(DEFAULT_MAX_AHEAD_MS / 1000),
    schema: boundedNumber(0, 86_400).default(DEFAULT_MAX_AHEAD_MS / 1000),
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
  const tookByNpm = flagsNpmTook(spec, env);
  if (tookByNpm.length > 0) {
    const script = env.npm_lifecycle_event ?? "SCRIPT";
    return {
      ok: false,
      help: false,
      message: `npm took ${tookByNpm.map((f) => `--${f}`).join(", ")} as its own setting, so it never reached this command: ` +
        `put the flags after --, as in npm run ${script} -- --${tookByNpm[0]} VALUE`,
    };
  }
  let flags: FlagValues;
  try {
    flags = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (error) {
    return { ok: false, help: false, message: `${(error as Error).message}\nRun with --help to list the settings.` };
  }
  if (flags.help) return { ok: false, help: true, message: helpText(spec, usage) };
  return settingValues(spec, env, flags);
}

/**
 * The flags of `spec` that npm kept for itself: under `npm run X --speed 10`
 * npm sets `npm_config_speed` and hands the command only `10`.
 *
 * @example
 * ```ts
 * flagsNpmTook(COMMON_SETTINGS, { npm_lifecycle_event: "dev", npm_config_speed: "true" }); // ["speed"]
 * ```
 */
export function flagsNpmTook(spec: SettingsSpec, env: Record<string, string | undefined>): string[] {
  try {
    if (env.npm_lifecycle_event === undefined) return [];
    return Object.values(spec).map((s) => s.flag).filter((flag) => env[`npm_config_${flag.replaceAll("-", "_")}`] !== undefined);
  } catch {
    // Deno without --allow-env refuses to read a variable: then npm did not start it with any.
    return [];
  }
}

/**
 * Checks each setting of `spec`, from its flag in `flags` (already read
 * from the command line) or else its variable in `env`.
 */
export function settingValues<S extends SettingsSpec>(
  spec: S,
  env: Record<string, string | undefined>,
  flags: FlagValues,
): SettingsResult<S> {
  const values: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(spec)) {
    const fromFlag = flags[setting.flag];
    const fromEnv = setting.env === undefined ? undefined : env[setting.env];
    const raw = fromFlag ?? (fromEnv === "" ? undefined : fromEnv);
    sources[key] = fromFlag !== undefined ? "flag" : raw !== undefined ? "env" : "default";
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
  return { ok: true, values: values as SettingsOf<S>, sources: sources as { [K in keyof S]: SettingSource } };
}

/**
 * Every setting of `spec` at its default, as if nothing were given.
 *
 * @example
 * ```ts
 * defaultsOf(COMMON_SETTINGS).exporterPort; // 8083
 * ```
 */
export function defaultsOf<S extends SettingsSpec>(spec: S): SettingsOf<S> {
  return Object.fromEntries(Object.entries(spec).map(([key, setting]) => [key, setting.schema.parse(undefined)])) as SettingsOf<S>;
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

/**
 * `--events -5` as `--events=-5`: parseArgs takes a value starting with `-`
 * for an option ("ambiguous"), so a negative number would never reach the range check.
 */
function joinNegativeValues(argv: readonly string[], options: Record<string, { type: "string" | "boolean" }>): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const takesValue = arg.startsWith("--") && options[arg.slice(2)]?.type === "string";
    if (takesValue && next !== undefined && /^-\.?\d/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  return args;
}
