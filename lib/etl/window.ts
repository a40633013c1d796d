/**
 * Reads the per-second sliding window kept in {@linkcode PipelineState}.
 *
 * @example
 * ```ts
 * import { windowTotals } from "./window.ts";
 * import { createPipelineState } from "./state.ts";
 * windowTotals(createPipelineState(0), 60_000, 60).records; // 0
 * ```
 * @module
 */
import { type PipelineState, WINDOW_SECONDS } from "./state.ts";

/** Sums over the window. */
export interface WindowTotals {
  records: number;
  files: number;
  /** Whole microseconds. */
  durationUs: number;
}

/**
 * Totals of the events whose time falls in the `seconds` whole seconds that
 * end with the second of `nowMs` (that second included).
 */
export function windowTotals(pipeline: PipelineState, nowMs: number, seconds: number): WindowTotals {
  if (seconds < 1 || seconds > WINDOW_SECONDS) {
    throw new RangeError(`window must be 1..${WINDOW_SECONDS} s, got ${seconds}`);
  }
  const nowSecond = Math.floor(nowMs / 1000);
  const oldest = nowSecond - seconds + 1;
  const totals: WindowTotals = { records: 0, files: 0, durationUs: 0 };
  for (const slot of pipeline.window) {
    if (slot.second >= oldest && slot.second <= nowSecond) {
      totals.records += slot.records;
      totals.files += slot.files;
      totals.durationUs += slot.durationUs;
    }
  }
  return totals;
}
