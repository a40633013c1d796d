/**
 * Retiring pipelines: a pipeline that is not in the catalog and has logged
 * nothing for the retire-after time (default 7 days) is left out of
 * `/metrics` and `/health`, so the series of a removed pipeline do not stay
 * forever. Its state is kept: if it logs again it comes back, its counters
 * going on from where they were. A cataloged pipeline is never retired,
 * however rare its runs (a monthly job must not vanish).
 *
 * @example
 * ```ts
 * import { retiredPipelines } from "./retire.ts";
 * retiredPipelines(state, undefined, Date.now(), 7 * 86_400_000); // ["old_job"]
 * ```
 * @module
 */
import type { IngestState } from "../etl/state.ts";
import { type Catalog, catalogEntry } from "./entry.ts";

/** The default retire-after time: 7 days. */
export const DEFAULT_RETIRE_AFTER_MS = 7 * 86_400_000;

/** Names of the pipelines retired at `nowMs`, sorted. */
export function retiredPipelines(state: IngestState, catalog: Catalog | undefined, nowMs: number, retireAfterMs: number): string[] {
  return Object.keys(state.pipelines)
    .filter((name) => catalogEntry(catalog, name) === undefined && nowMs - state.pipelines[name]!.lastEventMs > retireAfterMs)
    .sort();
}

/**
 * A view of `state` without `names` (a shallow copy: nothing is changed,
 * and the left-out pipelines' state stays in `state`).
 *
 * @example
 * ```ts
 * withoutPipelines(state, ["old_job"]).pipelines.old_job; // undefined
 * ```
 */
export function withoutPipelines(state: IngestState, names: readonly string[]): IngestState {
  if (names.length === 0) return state;
  const drop = new Set(names);
  const keep = <T>(record: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(record).filter(([name]) => !drop.has(name)));
  return { ...state, pipelines: keep(state.pipelines), runs: keep(state.runs) };
}

/**
 * Counts retirements as they happen: each pipeline that becomes retired
 * counts once, and again only if it came back and was retired anew.
 *
 * @example
 * ```ts
 * const counter = createRetirementCounter();
 * counter.observe(["old_job"]); // 1
 * counter.observe(["old_job"]); // 1
 * ```
 */
export function createRetirementCounter(): { observe(retired: readonly string[]): number; readonly total: number } {
  let current = new Set<string>();
  let total = 0;
  return {
    observe(retired) {
      for (const name of retired) if (!current.has(name)) total += 1;
      current = new Set(retired);
      return total;
    },
    get total() {
      return total;
    },
  };
}
