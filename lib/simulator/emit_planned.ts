/**
 * Writes an event the engine planned through the contract's emitter: the
 * one place that maps a {@linkcode PlannedEvent} onto the log contract.
 *
 * @example
 * ```ts
 * import { emitPlanned } from "./emit_planned.ts";
 * const event = emitPlanned(emitter, engine.next());
 * foldEvent(state, event);
 * ```
 * @module
 */
import type { EventEmitter } from "../etl/emitter.ts";
import type { EtlEvent } from "../etl/events.ts";
import type { PlannedEvent } from "./engine.ts";

/** Emits `planned` and returns the event written. */
export function emitPlanned(emitter: EventEmitter, planned: PlannedEvent): EtlEvent {
  switch (planned.kind) {
    case "etl_started":
      return emitter.started({ version: "simulator" });
    case "heartbeat":
      return emitter.heartbeat({ state: planned.state });
    case "file_started":
      return emitter.fileStarted({ file: planned.file });
    case "file_processed":
      return emitter.fileProcessed({ file: planned.file, records: planned.records, duration_ms: planned.durationMs });
    case "file_failed":
      return emitter.fileFailed({
        file: planned.file,
        error_type: planned.errorType,
        records: planned.records,
        duration_ms: planned.durationMs,
        message: planned.message,
      });
  }
}
