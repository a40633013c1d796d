/**
 * Runs: what happened from each `etl_started` to its `etl_finished`. A run
 * still open when the next `etl_started` of its pipeline arrives died: it
 * is counted `failed`, reason `restarted`. Events between a start and its
 * finish belong to that run; events while no run is open (before the first
 * start, or after a finish) belong to none.
 *
 * The fold is pure and mergeable like the rest of the state: a block of log
 * folded on its own keeps the events that come before its first start in
 * `lead`, because they belong to a run an earlier block opened, and
 * {@linkcode mergeRuns} hands them to it. Durations are whole milliseconds
 * so that sums are exact in any order.
 *
 * @example
 * ```ts
 * import { createRunState, foldRunEvent } from "./runs.ts";
 * const runs = createRunState();
 * foldRunEvent(runs, { ts: "2026-11-23T02:00:00.000Z", level: "info", event: "etl_started", pipeline: "nightly" }, Date.UTC(2026, 10, 23, 2));
 * foldRunEvent(runs, { ts: "2026-11-23T02:10:00.000Z", level: "info", event: "etl_finished", pipeline: "nightly", status: "success" }, Date.UTC(2026, 10, 23, 2, 10));
 * runs.statusCounts.success; // 1
 * runs.last?.durationMs; // 600000
 * ```
 * @module
 */
import * as z from "zod";
import { RUN_STATUSES, type EtlEvent, type RunStatus } from "./events.ts";

/**
 * Upper bounds (seconds) of the run-duration histogram: batch runs last
 * from seconds to most of a day.
 */
export const RUN_DURATION_BUCKETS_SECONDS: readonly number[] = [
  1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400,
];

/** Why a run ended `failed` without an `etl_finished` saying so. */
export const RESTARTED_REASON = "restarted";

/** A run in progress. Times are epoch milliseconds. */
export interface OpenRun {
  runId: string | null;
  startMs: number;
  /** The newest event of the run (its start included). */
  lastEventMs: number;
  records: number;
  files: number;
  failures: number;
}

/** A finished run. */
export interface FinishedRun {
  runId: string | null;
  startMs: number;
  finishedMs: number;
  status: RunStatus;
  /** `restarted` when the run was closed by the next start; `null` when it finished itself. */
  reason: string | null;
  records: number;
  /** Whole milliseconds: the finish's `duration_ms` when given, else finish time − start time. */
  durationMs: number;
}

/** What a block's events before its first start add to the run an earlier block left open. */
export interface RunLead {
  records: number;
  files: number;
  failures: number;
  /** Newest event time of the lead, `null` when it has none. */
  lastEventMs: number | null;
  /** The first `etl_finished` of the lead: it closes that run, and the lead with it. */
  finish: { tsMs: number; status: RunStatus; records: number | null; durationMs: number | null } | null;
  /** An `etl_started` or an `etl_finished` was seen: later events no longer belong to the lead. */
  closed: boolean;
  /** The lead was closed by an `etl_started` (which restarts a run the earlier block left open). */
  startSeen: boolean;
}

/** The runs of one pipeline. Plain JSON data, checkpointed with the state. */
export interface RunState {
  open: OpenRun | null;
  lead: RunLead;
  /** Finished runs by status (restarted ones under `failed`). */
  statusCounts: Record<RunStatus, number>;
  /** Of the failed runs, those closed by the next start. */
  restartedTotal: number;
  /** `etl_finished` events that came with no run in progress: counted, otherwise ignored. */
  unmatchedFinishes: number;
  /** Non-cumulative counts per bucket of {@linkcode RUN_DURATION_BUCKETS_SECONDS}, `+Inf` last. */
  durationBucketCounts: number[];
  durationSumMs: number;
  last: FinishedRun | null;
  lastSuccess: FinishedRun | null;
}

/**
 * Makes the runs of a pipeline not seen yet.
 *
 * @example
 * ```ts
 * createRunState().open; // null
 * ```
 */
export function createRunState(): RunState {
  const statusCounts = {} as Record<RunStatus, number>;
  for (const status of RUN_STATUSES) statusCounts[status] = 0;
  return {
    open: null,
    lead: { records: 0, files: 0, failures: 0, lastEventMs: null, finish: null, closed: false, startSeen: false },
    statusCounts,
    restartedTotal: 0,
    unmatchedFinishes: 0,
    durationBucketCounts: new Array(RUN_DURATION_BUCKETS_SECONDS.length + 1).fill(0),
    durationSumMs: 0,
    last: null,
    lastSuccess: null,
  };
}

/**
 * Whether the pipeline is between runs: a run has finished and none is in
 * progress. Only then does silence mean nothing (a batch job waiting for its
 * next run); otherwise the always-on rules apply.
 *
 * @example
 * ```ts
 * betweenRuns(createRunState()); // false: nothing finished yet, read as a service
 * ```
 */
export function betweenRuns(runs: RunState | undefined): boolean {
  return runs !== undefined && runs.open === null && runs.last !== null;
}

/**
 * `etl_finished` events that had no run in progress, all told (a fold from
 * the start keeps the first of them, before any start, in its lead).
 *
 * @example
 * ```ts
 * unmatchedFinishes(createRunState()); // 0
 * ```
 */
export function unmatchedFinishes(runs: RunState): number {
  return runs.unmatchedFinishes + (runs.lead.finish === null ? 0 : 1);
}

/** Folds one event of the pipeline, at `tsMs` (its parsed `ts`), into `runs`. */
export function foldRunEvent(runs: RunState, event: EtlEvent, tsMs: number): void {
  const open = runs.open;
  if (event.event === "etl_started") {
    if (open !== null) closeRestarted(runs, open);
    else if (!runs.lead.closed) runs.lead.startSeen = true;
    runs.lead.closed = true;
    runs.open = { runId: event.run_id ?? null, startMs: tsMs, lastEventMs: tsMs, records: 0, files: 0, failures: 0 };
    return;
  }
  const records = event.event === "file_processed" || event.event === "file_failed" ? event.records : 0;
  const files = event.event === "file_processed" ? 1 : 0;
  const failures = event.event === "file_failed" ? 1 : 0;
  if (open !== null) {
    open.records += records;
    open.files += files;
    open.failures += failures;
    if (tsMs > open.lastEventMs) open.lastEventMs = tsMs;
    if (event.event === "etl_finished") {
      finish(runs, open, tsMs, event.status, event.records ?? null, wholeMs(event.duration_ms));
      runs.open = null;
    }
    return;
  }
  const lead = runs.lead;
  if (lead.closed) {
    if (event.event === "etl_finished") runs.unmatchedFinishes += 1;
    return;
  }
  lead.records += records;
  lead.files += files;
  lead.failures += failures;
  if (lead.lastEventMs === null || tsMs > lead.lastEventMs) lead.lastEventMs = tsMs;
  if (event.event === "etl_finished") {
    lead.finish = { tsMs, status: event.status, records: event.records ?? null, durationMs: wholeMs(event.duration_ms) };
    lead.closed = true;
  }
}

/**
 * Folds `later`, the runs of the lines after those of `into`, into `into`
 * (in place) so that the result is the fold of both stretches in order.
 * `later` is only read.
 *
 * @example
 * ```ts
 * const a = createRunState(); // ends with a run open
 * const b = createRunState(); // starts with that run's finish, in its lead
 * mergeRuns(a, b);
 * ```
 */
export function mergeRuns(into: RunState, later: RunState): RunState {
  const lead = later.lead;
  const open = into.open;
  if (open !== null) {
    open.records += lead.records;
    open.files += lead.files;
    open.failures += lead.failures;
    if (lead.lastEventMs !== null && lead.lastEventMs > open.lastEventMs) open.lastEventMs = lead.lastEventMs;
    if (lead.finish !== null) {
      const f = lead.finish;
      finish(into, open, f.tsMs, f.status, f.records, f.durationMs);
      into.open = null;
    } else if (lead.startSeen) {
      closeRestarted(into, open);
      into.open = null;
    }
  } else if (!into.lead.closed) {
    const mine = into.lead;
    mine.records += lead.records;
    mine.files += lead.files;
    mine.failures += lead.failures;
    if (lead.lastEventMs !== null && (mine.lastEventMs === null || lead.lastEventMs > mine.lastEventMs)) mine.lastEventMs = lead.lastEventMs;
    mine.finish = lead.finish === null ? null : { ...lead.finish };
    mine.closed = lead.closed;
    mine.startSeen = lead.startSeen;
  } else if (lead.finish !== null) {
    into.unmatchedFinishes += 1;
  }
  for (const status of RUN_STATUSES) into.statusCounts[status] += later.statusCounts[status];
  into.restartedTotal += later.restartedTotal;
  into.unmatchedFinishes += later.unmatchedFinishes;
  for (let i = 0; i < into.durationBucketCounts.length; i++) into.durationBucketCounts[i]! += later.durationBucketCounts[i]!;
  into.durationSumMs += later.durationSumMs;
  if (later.last !== null) into.last = { ...later.last };
  if (later.lastSuccess !== null) into.lastSuccess = { ...later.lastSuccess };
  // A start in the later stretch replaced whatever was open; without one, the open run goes on.
  if (lead.startSeen || lead.closed || later.open !== null) into.open = later.open === null ? null : { ...later.open };
  return into;
}

/**
 * A deep copy (the merge and the checkpoint must not share objects).
 *
 * @example
 * ```ts
 * const copy = copyRunState(createRunState());
 * ```
 */
export function copyRunState(runs: RunState): RunState {
  return {
    open: runs.open === null ? null : { ...runs.open },
    lead: { ...runs.lead, finish: runs.lead.finish === null ? null : { ...runs.lead.finish } },
    statusCounts: { ...runs.statusCounts },
    restartedTotal: runs.restartedTotal,
    unmatchedFinishes: runs.unmatchedFinishes,
    durationBucketCounts: [...runs.durationBucketCounts],
    durationSumMs: runs.durationSumMs,
    last: runs.last === null ? null : { ...runs.last },
    lastSuccess: runs.lastSuccess === null ? null : { ...runs.lastSuccess },
  };
}

/** Index of the run-duration bucket of `seconds` (the last one is `+Inf`). */
export function runBucketIndex(seconds: number): number {
  let i = 0;
  while (i < RUN_DURATION_BUCKETS_SECONDS.length && seconds > RUN_DURATION_BUCKETS_SECONDS[i]!) i++;
  return i;
}

function wholeMs(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms);
}

function closeRestarted(runs: RunState, open: OpenRun): void {
  finish(runs, open, open.lastEventMs, "failed", null, null, RESTARTED_REASON);
}

function finish(
  runs: RunState,
  open: OpenRun,
  finishedMs: number,
  status: RunStatus,
  records: number | null,
  durationMs: number | null,
  reason: string | null = null,
): void {
  const run: FinishedRun = {
    runId: open.runId,
    startMs: open.startMs,
    finishedMs,
    status,
    reason,
    records: records ?? open.records,
    durationMs: durationMs ?? Math.max(0, finishedMs - open.startMs),
  };
  runs.statusCounts[status] += 1;
  if (reason === RESTARTED_REASON) runs.restartedTotal += 1;
  runs.durationBucketCounts[runBucketIndex(run.durationMs / 1000)]! += 1;
  runs.durationSumMs += run.durationMs;
  runs.last = run;
  if (status === "success") runs.lastSuccess = { ...run };
}

/**
 * Folds an event into the runs of its pipeline in `byPipeline`, making them
 * on first sight (the reducer's hook).
 *
 * @example
 * ```ts
 * const byPipeline: Record<string, RunState> = {};
 * foldPipelineRuns(byPipeline, { ts: "2026-11-23T02:00:00.000Z", level: "info", event: "etl_started", pipeline: "nightly" }, 0);
 * byPipeline.nightly?.open?.startMs; // 0
 * ```
 */
export function foldPipelineRuns(byPipeline: Record<string, RunState>, event: EtlEvent, tsMs: number): void {
  // hasOwn: names like "constructor" are valid and must not reach Object.prototype.
  let runs = Object.hasOwn(byPipeline, event.pipeline) ? byPipeline[event.pipeline] : undefined;
  if (runs === undefined) byPipeline[event.pipeline] = runs = createRunState();
  foldRunEvent(runs, event, tsMs);
}

/**
 * {@linkcode mergeRuns} for every pipeline of `later` (the merge's hook).
 *
 * @example
 * ```ts
 * mergePipelineRuns(into.runs, later.runs);
 * ```
 */
export function mergePipelineRuns(into: Record<string, RunState>, later: Record<string, RunState>): void {
  for (const name of Object.keys(later)) {
    if (Object.hasOwn(into, name)) mergeRuns(into[name]!, later[name]!);
    else into[name] = copyRunState(later[name]!);
  }
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number();
const status = z.enum(RUN_STATUSES);
const FinishedRunSchema = z.object({
  runId: z.string().nullable(),
  startMs: epochMs,
  finishedMs: epochMs,
  status,
  reason: z.string().nullable(),
  records: count,
  durationMs: count,
});

/**
 * A sane {@linkcode RunState} as read back from a checkpoint.
 *
 * @example
 * ```ts
 * RunStateSchema.safeParse(createRunState()).success; // true
 * ```
 */
export const RunStateSchema = z.object({
  open: z
    .object({ runId: z.string().nullable(), startMs: epochMs, lastEventMs: epochMs, records: count, files: count, failures: count })
    .nullable(),
  lead: z.object({
    records: count,
    files: count,
    failures: count,
    lastEventMs: epochMs.nullable(),
    finish: z.object({ tsMs: epochMs, status, records: count.nullable(), durationMs: count.nullable() }).nullable(),
    closed: z.boolean(),
    startSeen: z.boolean(),
  }),
  statusCounts: z.object({ success: count, failed: count, cancelled: count }),
  restartedTotal: count,
  unmatchedFinishes: count,
  // Checked: the fold indexes it by bucket.
  durationBucketCounts: z.array(count).length(RUN_DURATION_BUCKETS_SECONDS.length + 1),
  durationSumMs: count,
  last: FinishedRunSchema.nullable(),
  lastSuccess: FinishedRunSchema.nullable(),
});

/**
 * The runs of `name`, `undefined` when none were seen (own keys only: a
 * pipeline may be called "constructor").
 *
 * @example
 * ```ts
 * runsOf({}, "constructor"); // undefined
 * ```
 */
export function runsOf(byPipeline: Record<string, RunState>, name: string): RunState | undefined {
  return Object.hasOwn(byPipeline, name) ? byPipeline[name] : undefined;
}
