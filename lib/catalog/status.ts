/**
 * Each pipeline's state, as `/health` and `etl_pipeline_state` give it:
 *
 * - `stale`: a run in progress (or an always-on service) sent no event for
 *   the stale limit (60 s);
 * - `failing`: its last files all failed in a row, or, between runs, its
 *   last run finished `failed`;
 * - `late`: no successful run by the deadline of its schedule;
 * - `running`: a run is in progress (or it is an always-on service);
 * - `idle`: between runs, nothing wrong.
 *
 * The first that applies wins, in that order. `stale`, `failing` and
 * `late` need a person; so does a run `hung` past its `max_run_duration`
 * (still `running`, flagged).
 *
 * @example
 * ```ts
 * import { pipelineStatus } from "./status.ts";
 * pipelineStatus({ pipeline, runs, entry: undefined, nowMs, sinceMs: nowMs }).state; // "running"
 * ```
 * @module
 */
import { assessPipeline, DEFAULT_HEALTH_POLICY, type HealthPolicy } from "../etl/health.ts";
import { betweenRuns, type RunState, runsOf } from "../etl/runs.ts";
import type { Snapshot } from "../etl/snapshot.ts";
import type { PipelineState } from "../etl/state.ts";
import { catalogEntry, type CatalogEntry, type PipelineKind } from "./entry.ts";
import { type Deadline, nextDeadline } from "./schedule.ts";

/** The states, worst first. */
export const PIPELINE_STATES = ["stale", "failing", "late", "running", "idle"] as const;
/** One of {@linkcode PIPELINE_STATES}. */
export type PipelineCondition = (typeof PIPELINE_STATES)[number];

/** What is known of one pipeline at one moment. */
export interface StatusInput {
  /** Absent for a pipeline in the catalog that has logged nothing yet. */
  pipeline?: PipelineState;
  runs?: RunState;
  entry?: CatalogEntry;
  nowMs: number;
  /** Where the deadline counts from before any success: first seen, or the catalog's loading. */
  sinceMs: number;
  policy?: HealthPolicy;
}

/** A pipeline's state and why. */
export interface PipelineStatus {
  state: PipelineCondition;
  needsPerson: boolean;
  /** The run in progress has lasted longer than `max_run_duration`. */
  hung: boolean;
  /** The last successful run had fewer records than `min_records`. */
  empty: boolean;
  deadline: Deadline | null;
  reasons: string[];
}

/** Works out the state of one pipeline. */
export function pipelineStatus(input: StatusInput): PipelineStatus {
  const { pipeline, runs, entry, nowMs } = input;
  const reasons: string[] = [];
  const between = betweenRuns(runs);
  const health = pipeline === undefined ? { healthy: true, reasons: [] } : assessPipeline(pipeline, nowMs, input.policy ?? DEFAULT_HEALTH_POLICY, runs);
  const stale = health.reasons.some((r) => r.startsWith("no event"));
  reasons.push(...health.reasons);
  const lastFailed = between && runs!.last!.status === "failed";
  if (lastFailed) reasons.push(`last run finished failed${runs!.last!.reason === null ? "" : ` (${runs!.last!.reason})`}`);
  const failing = (!health.healthy && !stale) || lastFailed;

  const successMs = runs?.lastSuccess?.finishedMs ?? null;
  const deadline = entry === undefined ? null : nextDeadline(entry, successMs ?? input.sinceMs);
  const late = deadline !== null && nowMs > deadline.deadlineMs;
  if (late) reasons.push(`no successful run by the deadline ${new Date(deadline.deadlineMs).toISOString()}`);

  const open = runs?.open ?? null;
  const maxMs = entry?.maxRunDurationMs ?? null;
  const hung = open !== null && maxMs !== null && nowMs - open.startMs > maxMs;
  if (hung) reasons.push(`run in progress for ${Math.round((nowMs - open.startMs) / 1000)} s (max_run_duration ${maxMs / 1000} s)`);
  const minRecords = entry?.minRecords ?? null;
  const lastSuccess = runs?.lastSuccess ?? null;
  const empty = minRecords !== null && lastSuccess !== null && lastSuccess.records < minRecords;
  if (empty) reasons.push(`last successful run had ${lastSuccess.records} records (min_records ${minRecords})`);

  const state: PipelineCondition = stale ? "stale" : failing ? "failing" : late ? "late" : between ? "idle" : pipeline === undefined ? "idle" : "running";
  return { state, needsPerson: state === "stale" || state === "failing" || state === "late" || hung, hung, empty, deadline, reasons };
}

/**
 * The catalog's kind; for a pipeline not in it, `batch` once one of its
 * runs ended with its own `etl_finished`, `service` otherwise (a run cut by
 * a restart does not make a batch job of an always-on process).
 *
 * @example
 * ```ts
 * pipelineKind(undefined, undefined); // "service"
 * ```
 */
export function pipelineKind(entry: CatalogEntry | undefined, runs: RunState | undefined): PipelineKind {
  if (entry !== undefined) return entry.kind;
  if (runs === undefined) return "service";
  const finished = Object.values(runs.statusCounts).reduce((a, b) => a + b, 0);
  return finished > runs.restartedTotal ? "batch" : "service";
}

/**
 * Every pipeline name the snapshot knows, sorted: from the logs and from the catalog.
 *
 * @example
 * ```ts
 * knownPipelines({ state: createIngestState(), nowMs: 0, ready: true }); // []
 * ```
 */
export function knownPipelines(snapshot: Snapshot): string[] {
  const names = new Set(Object.keys(snapshot.state.pipelines));
  for (const name of Object.keys(snapshot.catalog?.pipelines ?? {})) names.add(name);
  return [...names].sort();
}

/** What the snapshot knows of one pipeline, with its status. */
export interface SnapshotPipeline {
  pipeline: PipelineState | undefined;
  runs: RunState | undefined;
  entry: CatalogEntry | undefined;
  status: PipelineStatus;
}

/**
 * {@linkcode pipelineStatus} of `name` in a snapshot: what `/health` and the
 * metrics both read, so they always agree.
 *
 * @example
 * ```ts
 * statusInSnapshot(snapshot, "nightly").status.state; // "idle"
 * ```
 */
export function statusInSnapshot(snapshot: Snapshot, name: string): SnapshotPipeline {
  const { state, nowMs } = snapshot;
  const pipeline = Object.hasOwn(state.pipelines, name) ? state.pipelines[name] : undefined;
  const runs = runsOf(state.runs, name);
  const entry = catalogEntry(snapshot.catalog, name);
  const status = pipelineStatus({
    pipeline,
    runs,
    entry,
    nowMs,
    sinceMs: pipeline?.firstEventMs ?? snapshot.catalogLoadedAtMs ?? nowMs,
    ...(snapshot.healthPolicy ? { policy: snapshot.healthPolicy } : {}),
  });
  return { pipeline, runs, entry, status };
}
