/**
 * The reducer: folds one event of the log contract into the state.
 *
 * It reads no clock and does no I/O, so folding the same lines always gives
 * the same state; the tests hold it to a recount of the log. For speed (a
 * million lines must fold in about a second) it updates `state` in place
 * rather than copying it; callers own the state they pass.
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * import { foldEvent } from "./reducer.ts";
 * const state = createIngestState();
 * foldEvent(state, {
 *   ts: "2026-11-23T10:00:00.000Z", level: "info", event: "file_processed",
 *   pipeline: "etl", file: "a.csv", records: 10, duration_ms: 1000,
 * });
 * state.pipelines.etl?.recordsTotal; // 10
 * ```
 * @module
 */
import type { EtlEvent } from "./events.ts";
import { foldPipelineRuns } from "./runs.ts";
import {
  addSaturating,
  createPipelineState,
  DURATION_BUCKETS_SECONDS,
  durationUs,
  type IngestState,
  MAX_ERROR_TYPES,
  type PipelineState,
  WINDOW_SECONDS,
  type WindowSlot,
} from "./state.ts";

/** The error type that takes the place of types beyond {@linkcode MAX_ERROR_TYPES}. */
export const OVERFLOW_ERROR_TYPE = "other";

/** Folds one valid event into `state` and returns it; `tsMs` is `Date.parse(event.ts)`, when the caller has it already. */
export function foldEvent(state: IngestState, event: EtlEvent, tsMs: number = Date.parse(event.ts)): IngestState {
  // hasOwn: names like "constructor" are valid and must not reach Object.prototype.
  let pipeline = Object.hasOwn(state.pipelines, event.pipeline) ? state.pipelines[event.pipeline] : undefined;
  if (pipeline === undefined) {
    pipeline = createPipelineState(tsMs);
    state.pipelines[event.pipeline] = pipeline;
  }
  if (tsMs > pipeline.lastEventMs) pipeline.lastEventMs = tsMs;
  if (tsMs < pipeline.firstEventMs) pipeline.firstEventMs = tsMs;
  foldPipelineRuns(state.runs, event, tsMs);

  switch (event.event) {
    case "etl_started":
      pipeline.startsTotal += 1;
      if (pipeline.lastStartMs === null || tsMs > pipeline.lastStartMs) pipeline.lastStartMs = tsMs;
      break;
    case "file_processed": {
      pipeline.recordsTotal = addSaturating(pipeline.recordsTotal, event.records);
      pipeline.filesTotal += 1;
      pipeline.consecutiveFailures = 0;
      if (pipeline.lastSuccessMs === null || tsMs > pipeline.lastSuccessMs) pipeline.lastSuccessMs = tsMs;
      const seconds = event.duration_ms / 1000;
      pipeline.durationBucketCounts[bucketIndex(seconds)]! += 1;
      const us = durationUs(event.duration_ms);
      pipeline.durationSumUs += us;
      pipeline.durationCount += 1;
      const slot = windowSlot(pipeline, tsMs);
      if (slot) {
        slot.records = addSaturating(slot.records, event.records);
        slot.files += 1;
        slot.durationUs += us;
      }
      break;
    }
    case "file_failed": {
      pipeline.recordsTotal = addSaturating(pipeline.recordsTotal, event.records);
      pipeline.failuresTotal += 1;
      pipeline.consecutiveFailures += 1;
      countErrorType(state, pipeline, event.error_type);
      const slot = windowSlot(pipeline, tsMs);
      if (slot) slot.records = addSaturating(slot.records, event.records);
      break;
    }
    case "heartbeat":
    case "file_started":
    case "etl_finished":
      break;
  }
  return state;
}

function countErrorType(state: IngestState, pipeline: PipelineState, errorType: string): void {
  const counts = pipeline.errorsByType;
  if (Object.hasOwn(counts, errorType)) {
    counts[errorType]! += 1;
  } else if (Object.keys(counts).length < MAX_ERROR_TYPES) {
    counts[errorType] = 1;
  } else {
    counts[OVERFLOW_ERROR_TYPE] = (Object.hasOwn(counts, OVERFLOW_ERROR_TYPE) ? counts[OVERFLOW_ERROR_TYPE]! : 0) + 1;
    state.errorTypesFolded += 1;
  }
}

/** Index of the histogram bucket a duration falls in (the last one is `+Inf`). */
export function bucketIndex(seconds: number): number {
  let i = 0;
  while (i < DURATION_BUCKETS_SECONDS.length && seconds > DURATION_BUCKETS_SECONDS[i]!) i++;
  return i;
}

/**
 * The window slot for an event time, reset if it held an older second;
 * `undefined` for an event older than the window (still counted in totals).
 */
function windowSlot(pipeline: PipelineState, tsMs: number): WindowSlot | undefined {
  const second = Math.floor(tsMs / 1000);
  if (second < 0) return undefined;
  const slot = pipeline.window[second % WINDOW_SECONDS]!;
  if (slot.second === second) return slot;
  if (slot.second > second) return undefined;
  slot.second = second;
  slot.records = 0;
  slot.files = 0;
  slot.durationUs = 0;
  return slot;
}
