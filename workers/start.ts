/**
 * Shared start-up of a worker: settings parsed once (a clear message and
 * exit 2 on bad ones, the help text and exit 0 on `--help`), then logging
 * (the worker's `logLevel`, and `--log-format`, which every worker takes).
 * One-shot commands share the parsing alone (`settingsOrExit`).
 *
 * @example
 * ```ts
 * import { startWorker } from "./start.ts";
 * const settings = await startWorker(SPEC, "Usage: exporter [flags]");
 * ```
 * @module
 */
import process from "node:process";
import {
  LOG_FORMAT_SETTING, parseSettings, settingName, type SettingSource, type SettingsOf, type SettingsResult, type SettingsSpec,
  type WorkerLogLevel,
} from "../lib/config/settings.ts";
import { type LogFormat, setupLogging } from "./logging.ts";

/** Parses the settings from this process's environment and flags, or exits. */
export async function startWorker<S extends SettingsSpec & { logLevel: SettingsSpec[string] }>(
  spec: S,
  usage: string,
): Promise<SettingsOf<S>> {
  const withFormat = { ...spec, logFormat: LOG_FORMAT_SETTING };
  const result = settingsOrExit(withFormat, usage);
  const { logFormat, ...values } = result.values as Record<string, unknown>;
  names.set(values, (key) => settingName(withFormat[key]!, result.sources[key as keyof typeof withFormat] as SettingSource));
  const level = (values as { logLevel: WorkerLogLevel }).logLevel;
  // LogTape spells the contract's `warn` as `warning`.
  await setupLogging(level === "warn" ? "warning" : level, logFormat as LogFormat);
  return values as SettingsOf<S>;
}

/**
 * Parses the settings from this process's environment and flags; on `--help`
 * prints the help and exits 0, on a bad or unknown flag prints why and exits 2.
 * One-shot commands use it alone; workers through {@linkcode startWorker}.
 */
export function settingsOrExit<S extends SettingsSpec>(spec: S, usage: string): Extract<SettingsResult<S>, { ok: true }> {
  const result = parseSettings(spec, process.env, process.argv.slice(2), usage);
  if (result.ok) return result;
  (result.help ? process.stdout : process.stderr).write(result.message + "\n");
  process.exit(result.help ? 0 : 2);
}

const names = new WeakMap<object, (key: string) => string>();

/**
 * The name of a setting as this process was given it (`--exporter-port`,
 * `EXPORTER_PORT`, or both when neither was), for advice that must name what to change.
 */
export function settingAsGiven<S extends object>(settings: S, key: keyof S & string): string {
  const name = names.get(settings);
  if (!name) throw new Error("settingAsGiven: these settings were not parsed by startWorker");
  return name(key);
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits 0. */
export function onShutdown(stop: () => Promise<void> | void): void {
  let stopping = false;
  const handler = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await stop();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
