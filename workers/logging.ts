/**
 * The workers' own logs, on stderr through LogTape, so stdout stays free for
 * `--once` output: plain text for a person when stderr is a terminal, JSON
 * lines (for a log collector) when it is not, or as `ETL_LOG_FORMAT` says.
 * Either way a message reads as a person would write it: values unquoted.
 * Warnings about bad log lines are throttled (a flood of bad lines must not
 * flood the logs; the counters still count every one).
 *
 * @module
 */
import process from "node:process";
import {
  configure,
  getJsonLinesFormatter,
  getStreamSink,
  getTextFormatter,
  getThrottlingFilter,
  type LogLevel,
  type LogRecord,
  type TextFormatter,
} from "@logtape/logtape";

/** `text` for a terminal, `json` for a collector, `auto` the one that fits stderr. */
export type LogFormat = "auto" | "text" | "json";

const isScalar = (value: unknown) =>
  value === null || value === undefined || ["string", "number", "boolean", "bigint"].includes(typeof value);

/**
 * A value inside a message as a person would write it: a string as it is,
 * an error by its message, a list or a flat record as `a, b` or
 * `key value, key value`, anything else as JSON.
 */
export function plainValue(value: unknown): string {
  if (isScalar(value)) return String(value);
  if (value instanceof Error) return value.message;
  if (Array.isArray(value) && value.every(isScalar)) return value.join(", ");
  if (Object.getPrototypeOf(value) === Object.prototype && Object.values(value as object).every(isScalar)) {
    return Object.entries(value as object).map(([key, v]) => `${key} ${v}`).join(", ");
  }
  return JSON.stringify(value);
}

/** The message of `record` with its values written plainly. */
export function plainMessage(record: Pick<LogRecord, "message">): string {
  return record.message.map((part, i) => (i % 2 === 0 ? String(part) : plainValue(part))).join("");
}

// A terminal must not be steered by what a log line quotes (a file name, an alert's labels).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const escapeControls = (text: string) => text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** The formatter of `format`; `auto` picks text when stderr is a terminal. */
export function logFormatter(format: LogFormat, isTerminal = process.stderr.isTTY === true): TextFormatter {
  if (format === "text" || (format === "auto" && isTerminal)) {
    return getTextFormatter({ timestamp: "time", category: ".", value: (value) => escapeControls(plainValue(value)) });
  }
  const json = getJsonLinesFormatter();
  // The properties keep their types; only the rendered message is written plainly.
  return (record) => json({ ...record, message: [plainMessage(record)] });
}

/** Configures LogTape once for this process. */
export async function setupLogging(level: LogLevel, format: LogFormat = "auto"): Promise<void> {
  const stderr = new WritableStream<Uint8Array>({
    write(chunk) {
      process.stderr.write(chunk);
    },
  });
  await configure({
    reset: true,
    sinks: { stderr: getStreamSink(stderr, { formatter: logFormatter(format) }) },
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

/** `1 file`, `2 files`: a count with its noun, singular or plural as the count says. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
