/**
 * `GET /health`: each pipeline's verdict as JSON; 200 when every pipeline is
 * healthy, 503 otherwise (also before any pipeline was seen), so `curl -f`
 * and uptime checkers work.
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
import { assessHealth } from "../lib/etl/health.ts";
import type { Snapshot, SnapshotSource } from "../lib/etl/snapshot.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The body `/health` returns, built from a snapshot. */
export function healthReport(snapshot: Snapshot) {
  const { state, nowMs } = snapshot;
  const verdict = assessHealth(state, nowMs, snapshot.healthPolicy);
  const pipelines: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(state.pipelines)) {
    const v = verdict.pipelines[name]!;
    pipelines[name] = {
      healthy: v.healthy,
      reasons: v.reasons,
      last_event: iso(p.lastEventMs),
      last_success: iso(p.lastSuccessMs),
      last_start: iso(p.lastStartMs),
      consecutive_failures: p.consecutiveFailures,
      records_total: p.recordsTotal,
      files_total: p.filesTotal,
      failures_total: p.failuresTotal,
    };
  }
  const report: Record<string, unknown> = {
    status: verdict.healthy ? "healthy" : "unhealthy",
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
  return { healthy: verdict.healthy, report };
}

/** Makes the handler. */
export function healthHandler(source: SnapshotSource): Handler {
  return (c) => {
    const { healthy, report } = healthReport(source());
    c.header("cache-control", "no-store");
    return c.json(report, healthy ? 200 : 503);
  };
}
