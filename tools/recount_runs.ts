/**
 * The runs a person would count reading a log by hand, written
 * independently of `lib/etl/runs.ts` (a list of runs, not a fold) so the
 * tests can hold the fold, checkpointed and merged in pieces, to it.
 *
 * @example
 * ```ts
 * import { recountRuns } from "./recount_runs.ts";
 * recountRuns(events).nightly?.runs.map((r) => r.status); // ["success", "failed"]
 * ```
 * @module
 */
import type { EtlEvent, RunStatus } from "../lib/etl/events.ts";

/** One run as counted by hand. */
export interface CountedRun {
  status: RunStatus | "open";
  restarted: boolean;
  startMs: number;
  /** The finish event's time, or the run's newest event when the next start closed it. */
  endMs: number;
  records: number;
  durationMs: number;
}

/** Every run of one pipeline, in order, and the finishes that had no run. */
export interface CountedPipeline {
  runs: CountedRun[];
  unmatchedFinishes: number;
}

/**
 * Counts the runs of each pipeline in `events` (in log order).
 *
 * @example
 * ```ts
 * recountRuns([]); // {}
 * ```
 */
export function recountRuns(events: readonly EtlEvent[]): Record<string, CountedPipeline> {
  const byPipeline = new Map<string, EtlEvent[]>();
  for (const event of events) {
    const list = byPipeline.get(event.pipeline) ?? [];
    list.push(event);
    byPipeline.set(event.pipeline, list);
  }
  const out: Record<string, CountedPipeline> = {};
  for (const [name, list] of byPipeline) {
    const counted: CountedPipeline = { runs: [], unmatchedFinishes: 0 };
    // Split the pipeline's events at each start: every piece from a start is one run's events.
    let piece: EtlEvent[] | null = null;
    const pieces: EtlEvent[][] = [];
    for (const event of list) {
      if (event.event === "etl_started") {
        piece = [event];
        pieces.push(piece);
      } else if (piece !== null) {
        piece.push(event);
      } else if (event.event === "etl_finished") {
        counted.unmatchedFinishes += 1;
      }
    }
    for (const events of pieces) {
      const start = Date.parse(events[0]!.ts);
      const end = events.findIndex((e) => e.event === "etl_finished");
      const inRun = end === -1 ? events : events.slice(0, end + 1);
      counted.unmatchedFinishes += events.slice(end + 1).filter((e) => end !== -1 && e.event === "etl_finished").length;
      const fileRecords = inRun.reduce((sum, e) => sum + (e.event === "file_processed" || e.event === "file_failed" ? e.records : 0), 0);
      const newest = Math.max(...inRun.map((e) => Date.parse(e.ts)));
      const isLast = events === pieces[pieces.length - 1];
      if (end === -1) {
        counted.runs.push(
          isLast
            ? { status: "open", restarted: false, startMs: start, endMs: newest, records: fileRecords, durationMs: 0 }
            : { status: "failed", restarted: true, startMs: start, endMs: newest, records: fileRecords, durationMs: Math.max(0, newest - start) },
        );
        continue;
      }
      const finish = events[end] as Extract<EtlEvent, { event: "etl_finished" }>;
      const at = Date.parse(finish.ts);
      counted.runs.push({
        status: finish.status,
        restarted: false,
        startMs: start,
        endMs: at,
        records: finish.records ?? fileRecords,
        durationMs: finish.duration_ms !== undefined ? Math.round(finish.duration_ms) : Math.max(0, at - start),
      });
    }
    out[name] = counted;
  }
  return out;
}
