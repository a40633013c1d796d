/**
 * A small typed emitter for the log contract, for the simulator and for any
 * real ETL job that wants its logs read by the exporter.
 *
 * It validates each event against the contract before writing, so a job
 * cannot write a line the exporter would reject.
 *
 * @example
 * ```ts
 * import { appendFileSync } from "node:fs";
 * import { createEventEmitter } from "./emitter.ts";
 * const etl = createEventEmitter({
 *   pipeline: "orders",
 *   write: (line) => appendFileSync("data/logs/orders.log", line),
 * });
 * etl.started({ version: "1.4.0" });
 * etl.fileProcessed({ file: "orders-0001.csv", records: 120, duration_ms: 11890 });
 * etl.finished({ status: "success", records: 120 }); // a batch run ends; a service never does
 * ```
 * @module
 */
import { EtlEventSchema, LOG_CONTRACT_VERSION, type EtlEvent } from "./events.ts";

/** Where lines go; receives one complete line, newline included. */
export type LineWriter = (line: string) => void;

/** Options of {@linkcode createEventEmitter}. */
export interface EventEmitterOptions {
  pipeline: string;
  write: LineWriter;
  /** Identifies this run of the process; a random one is made when absent. */
  runId?: string;
  /** Milliseconds since the epoch; `Date.now` when absent. */
  clock?: () => number;
}

type Level = EtlEvent["level"];
type Payload<N extends EtlEvent["event"]> = Omit<
  Extract<EtlEvent, { event: N }>,
  "v" | "ts" | "level" | "pipeline" | "run_id" | "event"
> & { level?: Level };

/** The methods of an emitter: one per event kind. */
export interface EventEmitter {
  readonly runId: string;
  started(fields?: Payload<"etl_started">): EtlEvent;
  heartbeat(fields?: Payload<"heartbeat">): EtlEvent;
  fileStarted(fields: Payload<"file_started">): EtlEvent;
  fileProcessed(fields: Payload<"file_processed">): EtlEvent;
  fileFailed(fields: Payload<"file_failed">): EtlEvent;
  /** Ends the run: `status` success, failed or cancelled. */
  finished(fields: Payload<"etl_finished">): EtlEvent;
}

/**
 * Serialises an event as one line of the contract, `v` and `ts` first.
 *
 * @example
 * ```ts
 * formatEvent({ ts: "2026-11-23T10:00:00.000Z", level: "info", event: "heartbeat", pipeline: "etl" });
 * // '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"heartbeat","pipeline":"etl"}\n'
 * ```
 */
export function formatEvent(event: EtlEvent): string {
  const { v: _v, ts, level, event: name, pipeline, ...rest } = event;
  return JSON.stringify({ v: LOG_CONTRACT_VERSION, ts, level, event: name, pipeline, ...rest }) + "\n";
}

/**
 * Makes an emitter bound to one pipeline and one run.
 *
 * @throws {z.ZodError} when an event would break the contract (a bug in the caller).
 */
export function createEventEmitter(options: EventEmitterOptions): EventEmitter {
  const clock = options.clock ?? Date.now;
  const runId = options.runId ?? crypto.randomUUID();
  const emit = (name: EtlEvent["event"], defaultLevel: Level, fields: object): EtlEvent => {
    const { level, ...rest } = fields as { level?: Level };
    const event = EtlEventSchema.parse({
      ts: new Date(clock()).toISOString(),
      level: level ?? defaultLevel,
      event: name,
      pipeline: options.pipeline,
      run_id: runId,
      ...rest,
    });
    options.write(formatEvent(event));
    return event;
  };
  return {
    runId,
    started: (fields = {}) => emit("etl_started", "info", fields),
    heartbeat: (fields = {}) => emit("heartbeat", "debug", fields),
    fileStarted: (fields) => emit("file_started", "info", fields),
    fileProcessed: (fields) => emit("file_processed", "info", fields),
    fileFailed: (fields) => emit("file_failed", "error", fields),
    finished: (fields) => emit("etl_finished", fields.status === "failed" ? "error" : "info", fields),
  };
}
