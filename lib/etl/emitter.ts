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
import { type EtlEvent, type EtlEventName, EtlEventSchema, LOG_CONTRACT_VERSION } from "./events.ts";

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
type Payload<N extends EtlEventName> = Omit<
  Extract<EtlEvent, { event: N }>,
  "v" | "ts" | "level" | "pipeline" | "run_id" | "event"
> & { level?: Level };

/**
 * An event of the contract without what the emitter stamps on it (`v`,
 * `ts`, `pipeline`, `run_id`); `level` defaults to the kind's.
 */
export type EventBody = { [N in EtlEventName]: Payload<N> & { event: N } }[EtlEventName];

const DEFAULT_LEVEL: Record<EtlEventName, Level> = {
  etl_started: "info",
  heartbeat: "debug",
  file_started: "info",
  file_processed: "info",
  file_failed: "error",
  etl_finished: "info",
};

// A failed run is an error like a failed file; other endings are the kind's level.
const defaultLevel = (body: EventBody): Level =>
  body.event === "etl_finished" && body.status === "failed" ? "error" : DEFAULT_LEVEL[body.event];

/** The methods of an emitter: one per event kind, and `emit` for any body. */
export interface EventEmitter {
  readonly runId: string;
  emit(body: EventBody): EtlEvent;
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

/** An event the emitter refused, with what breaks the contract in words; nothing was written. */
export class EventRefusedError extends Error {
  override name = "EventRefusedError";
  constructor(
    /** The event kind, such as `file_processed`. */
    readonly event: string,
    /** One entry per broken rule: the field and what it must be. */
    readonly problems: readonly string[],
  ) {
    super(`refused a ${event} event that would break the log contract: ${problems.join("; ")}`);
  }
}

/**
 * Makes an emitter bound to one pipeline and one run.
 *
 * @throws {EventRefusedError} when an event would break the contract (a bug in the caller).
 */
export function createEventEmitter(options: EventEmitterOptions): EventEmitter {
  const clock = options.clock ?? Date.now;
  const runId = options.runId ?? crypto.randomUUID();
  const emit = (body: EventBody): EtlEvent => {
    const { level, event: name, ...rest } = body;
    const parsed = EtlEventSchema.safeParse({
      ts: new Date(clock()).toISOString(),
      level: level ?? defaultLevel(body),
      event: name,
      pipeline: options.pipeline,
      run_id: runId,
      ...rest,
    });
    if (!parsed.success) {
      throw new EventRefusedError(name, parsed.error.issues.map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`));
    }
    options.write(formatEvent(parsed.data));
    return parsed.data;
  };
  return {
    runId,
    emit,
    started: (fields = {}) => emit({ ...fields, event: "etl_started" }),
    heartbeat: (fields = {}) => emit({ ...fields, event: "heartbeat" }),
    fileStarted: (fields) => emit({ ...fields, event: "file_started" }),
    fileProcessed: (fields) => emit({ ...fields, event: "file_processed" }),
    fileFailed: (fields) => emit({ ...fields, event: "file_failed" }),
    finished: (fields) => emit({ ...fields, event: "etl_finished" }),
  };
}
