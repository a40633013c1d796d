/**
 * Merges the state of a later stretch of lines into the state of the lines
 * before it, so that a log can be folded in pieces (in parallel) and still
 * give the state of one fold from the start:
 *
 *     fold(a ++ b) == mergeState(fold(a), fold(b))
 *
 * Counters add (records saturating at 2^53 - 1, as the reducer's do), times
 * take their max (min for `firstEventMs`), and each
 * window slot keeps the later second, adding the two when both hold the
 * same one: a slot of a sequential fold ends as "the latest second seen at
 * its index, with the sum of the events of that second", which is what
 * this computes from the two halves. Durations are whole microseconds in
 * the state, so their sums add exactly, in any grouping.
 *
 * Limit: past {@linkcode MAX_ERROR_TYPES} distinct error types in a
 * pipeline, which types keep their own key and which fold into `other` can
 * depend on where the log was cut (a type the earlier stretch has may
 * already have been folded by the later one's own fold), and so can
 * `errorTypesFolded`. The sum over all types (= `failuresTotal`) stays exact.
 *
 * @example
 * ```ts
 * import { ingestLine } from "./ingest.ts";
 * import { mergeState } from "./merge_state.ts";
 * import { createIngestState } from "./state.ts";
 * const a = createIngestState();
 * const b = createIngestState();
 * ingestLine(a, "not json");
 * ingestLine(b, "{}");
 * mergeState(a, b).lines; // { parsed: 0, malformed: 1, rejected: 1, too_long: 0 }
 * ```
 * @module
 */
import { OVERFLOW_ERROR_TYPE } from "./reducer.ts";
import { mergePipelineRuns } from "./runs.ts";
import {
  addSaturating,
  DROP_REASONS,
  type IngestState,
  MAX_ERROR_TYPES,
  type PipelineState,
  WINDOW_SECONDS,
  type WindowSlot,
} from "./state.ts";

/**
 * Folds `later`, the state of the lines that follow those of `into`, into
 * `into` (in place, like `foldEvent`) and returns it. `later` is only read;
 * nothing of it is shared with `into` afterwards.
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * import { foldEvent } from "./reducer.ts";
 * const event = {
 *   ts: "2026-11-23T10:00:00.000Z", level: "info", event: "file_processed",
 *   pipeline: "etl", file: "a.csv", records: 10, duration_ms: 1000,
 * } as const;
 * const a = foldEvent(createIngestState(), event);
 * const b = foldEvent(createIngestState(), event);
 * mergeState(a, b).pipelines.etl?.recordsTotal; // 20
 * ```
 */
export function mergeState(into: IngestState, later: IngestState): IngestState {
  into.lines.parsed += later.lines.parsed;
  into.lines.malformed += later.lines.malformed;
  into.lines.rejected += later.lines.rejected;
  into.lines.too_long += later.lines.too_long;
  for (const reason of DROP_REASONS) into.dropped[reason] += later.dropped[reason];
  into.bytesRead += later.bytesRead;
  into.bytesLost += later.bytesLost;
  into.errorTypesFolded += later.errorTypesFolded;
  mergePipelineRuns(into.runs, later.runs);
  for (const name of Object.keys(later.pipelines)) {
    const next = later.pipelines[name]!;
    // hasOwn: names like "constructor" are valid and must not reach Object.prototype.
    if (Object.hasOwn(into.pipelines, name)) mergePipeline(into, into.pipelines[name]!, next);
    else into.pipelines[name] = copyPipeline(next);
  }
  return into;
}

function mergePipeline(state: IngestState, p: PipelineState, q: PipelineState): void {
  p.recordsTotal = addSaturating(p.recordsTotal, q.recordsTotal);
  p.failuresTotal += q.failuresTotal;
  p.startsTotal += q.startsTotal;
  // A success in the later stretch resets the run; its own count is then the whole run.
  p.consecutiveFailures = q.filesTotal > 0 ? q.consecutiveFailures : p.consecutiveFailures + q.consecutiveFailures;
  p.filesTotal += q.filesTotal;
  p.lastStartMs = laterOf(p.lastStartMs, q.lastStartMs);
  p.lastSuccessMs = laterOf(p.lastSuccessMs, q.lastSuccessMs);
  // The reducer ignores a time that does not compare (never one the contract admits).
  if (q.lastEventMs > p.lastEventMs) p.lastEventMs = q.lastEventMs;
  if (q.firstEventMs < p.firstEventMs) p.firstEventMs = q.firstEventMs;
  for (let i = 0; i < p.durationBucketCounts.length; i++) p.durationBucketCounts[i]! += q.durationBucketCounts[i]!;
  p.durationCount += q.durationCount;
  p.durationSumUs += q.durationSumUs;
  mergeErrorTypes(state, p.errorsByType, q.errorsByType);
  for (let i = 0; i < WINDOW_SECONDS; i++) {
    const mine = p.window[i]!;
    const theirs = q.window[i]!;
    if (theirs.second > mine.second) {
      copySlotInto(mine, theirs);
    } else if (mine.second === theirs.second) {
      mine.records = addSaturating(mine.records, theirs.records);
      mine.files += theirs.files;
      mine.durationUs += theirs.durationUs;
    }
  }
}

/** Adds the later counts by type, giving new types a key while there is room, as the reducer does. */
function mergeErrorTypes(state: IngestState, counts: Record<string, number>, later: Record<string, number>): void {
  for (const type of Object.keys(later)) {
    const n = later[type]!;
    if (Object.hasOwn(counts, type)) {
      counts[type]! += n;
    } else if (n === 0) {
      // A known type's zero: nothing to count, and the earlier state already has every known type.
      continue;
    } else if (type === OVERFLOW_ERROR_TYPE || Object.keys(counts).length < MAX_ERROR_TYPES) {
      // The later stretch's `other` already counted its own folds in errorTypesFolded.
      counts[type] = n;
    } else {
      counts[OVERFLOW_ERROR_TYPE] = (Object.hasOwn(counts, OVERFLOW_ERROR_TYPE) ? counts[OVERFLOW_ERROR_TYPE]! : 0) + n;
      state.errorTypesFolded += n;
    }
  }
}

function laterOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}

function copySlotInto(target: WindowSlot, source: WindowSlot): void {
  target.second = source.second;
  target.records = source.records;
  target.files = source.files;
  target.durationUs = source.durationUs;
}

function copyPipeline(p: PipelineState): PipelineState {
  const errorsByType: Record<string, number> = {};
  for (const type of Object.keys(p.errorsByType)) errorsByType[type] = p.errorsByType[type]!;
  return {
    ...p,
    errorsByType,
    durationBucketCounts: [...p.durationBucketCounts],
    window: p.window.map((slot) => ({ ...slot })),
  };
}
