/**
 * Shared start-up of a worker: settings parsed once (a clear message and
 * exit 2 on bad ones, the help text and exit 0 on `--help`), then logging
 * (the worker's `logLevel`, and `--log-format`, which every worker takes).
 *
 * @example
 * ```ts
 * import { startWorker } from "./start.ts";
 * const settings = await startWorker(SPEC, "Usage: exporter [flags]");
 * ```
 * @module
 */
import process from "node:process";
import { LOG_FORMAT_SETTING, parseSettings, type SettingsOf, type SettingsSpec } from "../lib/config/settings.ts";
import type { LogLevel } from "@logtape/logtape";
import { type LogFormat, setupLogging } from "./logging.ts";

/** Parses the settings from this process's environment and flags, or exits. */
export async function startWorker<S extends SettingsSpec & { logLevel: SettingsSpec[string] }>(
  spec: S,
  usage: string,
): Promise<SettingsOf<S>> {
  const result = parseSettings({ ...spec, logFormat: LOG_FORMAT_SETTING }, process.env, process.argv.slice(2), usage);
  if (!result.ok) {
    if (result.help) {
      process.stdout.write(result.message + "\n");
      process.exit(0);
    }
    process.stderr.write(result.message + "\n");
    process.exit(2);
  }
  const { logFormat, ...values } = result.values as Record<string, unknown>;
  await setupLogging((values as { logLevel: LogLevel }).logLevel, logFormat as LogFormat);
  return values as SettingsOf<S>;
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
