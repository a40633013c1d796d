/**
 * The workers' own logs: JSON lines on stderr through LogTape, so stdout
 * stays free for `--once` output. Warnings about bad log lines are
 * throttled (a flood of bad lines must not flood the logs; the counters
 * still count every one).
 *
 * @example
 * ```ts
 * import { setupLogging } from "./logging.ts";
 * await setupLogging("info");
 * ```
 * @module
 */
import process from "node:process";
import { configure, getJsonLinesFormatter, getStreamSink, getThrottlingFilter, type LogLevel } from "@logtape/logtape";

/** Configures LogTape once for this process. */
export async function setupLogging(level: LogLevel): Promise<void> {
  const stderr = new WritableStream<Uint8Array>({
    write(chunk) {
      process.stderr.write(chunk);
    },
  });
  await configure({
    reset: true,
    sinks: { stderr: getStreamSink(stderr, { formatter: getJsonLinesFormatter() }) },
    filters: { badLines: getThrottlingFilter({ limit: 10, windowMs: 60_000, key: (r) => r.category.join(".") }) },
    loggers: [
      { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
      { category: ["etl"], sinks: ["stderr"], lowestLevel: level },
      { category: ["etl", "ingest", "bad-line"], filters: ["badLines"], lowestLevel: level },
      // Lines past a limit (pipeline cap, clock skew) have a budget of their own.
      { category: ["etl", "ingest", "dropped-line"], filters: ["badLines"], lowestLevel: level },
    ],
  });
}
