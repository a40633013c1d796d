/**
 * The package entry `etl-monitoring-stack/emitter` (built to dist/emitter.mjs
 * with its types): the typed emitter of the log contract and its two sinks,
 * for a job outside this repository.
 *
 * @example
 * ```ts
 * import { createEventEmitter, createFileSink, createHttpSink } from "etl-monitoring-stack/emitter";
 * const http = createHttpSink({ url: "http://exporter:8083/api/v1/events", token: process.env.ETL_INGEST_TOKEN! });
 * const etl = createEventEmitter({ pipeline: "orders", write: http.write });
 * etl.started();
 * await http.close();
 * ```
 * @module
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { LineWriter } from "../../lib/etl/emitter.ts";

export { createEventEmitter, EventRefusedError, formatEvent } from "../../lib/etl/emitter.ts";
export type { EventBody, EventEmitter, EventEmitterOptions, LineWriter } from "../../lib/etl/emitter.ts";
export type { EtlEvent, EtlEventName } from "../../lib/etl/events.ts";
export { createHttpSink, PushFailedError, uuidv7 } from "./http_sink.ts";
export type { HttpSink, HttpSinkOptions } from "./http_sink.ts";
export { runJob } from "./run.ts";

/** The file sink: each line appended to `file` (made with its folder when missing), for a job on the exporter's host. */
export function createFileSink(file: string): { write: LineWriter } {
  mkdirSync(dirname(file), { recursive: true });
  return { write: (line) => appendFileSync(file, line) };
}
