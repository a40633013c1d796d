/**
 * `GET /health`: each pipeline's state (running, idle, late, stale,
 * failing) with its deadline and last run, as JSON; 200 unless a pipeline
 * needs a person (stale, failing, late, or a run hung past its
 * max_run_duration), 503 then and before any pipeline is known, so
 * `curl -f` and uptime checkers work.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { healthHandler } from "./health.ts";
 * const app = new Hono().get("/health", healthHandler(source));
 * // curl -f localhost:8083/health
 * ```
 * @module
 */
import type { Handler } from "hono";
import { knownPipelines, statusInSnapshot } from "../lib/catalog/status.ts";
import type { FinishedRun } from "../lib/etl/runs.ts";
import type { Snapshot, SnapshotSource } from "../lib/etl/snapshot.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The body `/health` returns, built from a snapshot. */
export function healthReport(snapshot: Snapshot) {
  const { state, nowMs } = snapshot;
  const pipelines: Record<string, unknown> = {};
  let healthy = true;
  for (const name of knownPipelines(snapshot)) {
    const { pipeline: p, runs, entry, status } = statusInSnapshot(snapshot, name);
    healthy &&= !status.needsPerson;
    pipelines[name] = {
      healthy: !status.needsPerson,
      state: status.state,
      kind: entry?.kind ?? null,
      reasons: status.reasons,
      deadline: iso(status.deadline?.deadlineMs ?? null),
      hung: status.hung,
      run_in_progress: runs?.open ? { run_id: runs.open.runId, started: iso(runs.open.startMs), records: runs.open.records } : null,
      last_run: runs?.last ? lastRun(runs.last) : null,
      last_successful_run: runs?.lastSuccess ? lastRun(runs.lastSuccess) : null,
      last_event: iso(p?.lastEventMs ?? null),
      last_success: iso(p?.lastSuccessMs ?? null),
      last_start: iso(p?.lastStartMs ?? null),
      consecutive_failures: p?.consecutiveFailures ?? 0,
      records_total: p?.recordsTotal ?? 0,
      files_total: p?.filesTotal ?? 0,
      failures_total: p?.failuresTotal ?? 0,
    };
  }
  healthy &&= Object.keys(pipelines).length > 0;
  const report: Record<string, unknown> = {
    status: healthy ? "healthy" : "unhealthy",
    time: iso(nowMs),
    ready: snapshot.ready,
    pipelines,
  };
  if (Object.keys(pipelines).length === 0) report.reasons = ["no pipeline seen in the logs yet"];
  if (snapshot.exporter) {
    report.exporter = {
      lines: state.lines,
      bytes_read: state.bytesRead,
      files_tailed: snapshot.exporter.filesTailed,
      checkpoint_saved_at: iso(snapshot.exporter.checkpointSavedAtMs),
    };
  }
  return { healthy, report };
}

function lastRun(run: FinishedRun) {
  return {
    run_id: run.runId,
    status: run.status,
    reason: run.reason,
    started: iso(run.startMs),
    finished: iso(run.finishedMs),
    duration_seconds: run.durationMs / 1000,
    records: run.records,
  };
}

/** Makes the handler. */
export function healthHandler(source: SnapshotSource): Handler {
  return (c) => {
    const { healthy, report } = healthReport(source());
    c.header("cache-control", "no-store");
    return c.json(report, healthy ? 200 : 503);
  };
}
