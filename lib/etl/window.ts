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
  return windowTotalsOver(pipeline, nowMs, [seconds])[0]!;
}

/** {@linkcode windowTotals} for each of `seconds`, in one pass over the window. */
export function windowTotalsOver(pipeline: PipelineState, nowMs: number, seconds: readonly number[]): WindowTotals[] {
  for (const s of seconds) {
    if (s < 1 || s > WINDOW_SECONDS) throw new RangeError(`window must be 1..${WINDOW_SECONDS} s, got ${s}`);
  }
  const nowSecond = Math.floor(nowMs / 1000);
  const oldest = seconds.map((s) => nowSecond - s + 1);
  const totals: WindowTotals[] = seconds.map(() => ({ records: 0, files: 0, durationUs: 0 }));
  for (const slot of pipeline.window) {
    if (slot.second > nowSecond) continue;
    for (let i = 0; i < oldest.length; i++) {
      if (slot.second >= oldest[i]!) {
        const t = totals[i]!;
        t.records += slot.records;
        t.files += slot.files;
        t.durationUs += slot.durationUs;
      }
    }
  }
  return totals;
}
