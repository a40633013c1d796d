import { describe, expect, it } from "vitest";
import { parseCatalog } from "../catalog/catalog.ts";
import type { EtlEvent } from "../etl/events.ts";
import { foldEvent } from "../etl/reducer.ts";
import { createIngestState } from "../etl/state.ts";
import { renderMetrics } from "./render.ts";

const T0 = Date.UTC(2026, 11, 1, 2); // 02:00 UTC
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ev = (ms: number, fields: object) => ({ ts: at(ms), level: "info", pipeline: "nightly", ...fields }) as EtlEvent;

/** The nightly job: started, three files, finished, three hours ago. */
function nightlyState() {
  const state = createIngestState();
  foldEvent(state, ev(0, { event: "etl_started", run_id: "r1" }));
  for (let i = 1; i <= 3; i++) foldEvent(state, ev(i * 60_000, { event: "file_processed", file: `f${i}`, records: 100 * i, duration_ms: 50_000 }));
  foldEvent(state, ev(180_000, { event: "etl_finished", run_id: "r1", status: "success" }));
  return state;
}

const catalogText = `
pipelines:
  nightly:
    schedule: "0 2 * * *"
    max_run_duration: 1h
    min_records: 100
    labels: { team: data }
  monthly:
    schedule: "0 3 1 * *"
`;
const catalog = (() => {
  const result = parseCatalog(catalogText);
  if (!result.ok) throw new Error(result.problems.join("\n"));
  return result.catalog;
})();

const lineOf = (body: string, prefix: string) => body.split("\n").find((l) => l.startsWith(prefix + " "));
const valueOf = (body: string, prefix: string) => Number(lineOf(body, prefix)?.split(" ").at(-1));

describe("run families", () => {
  it("read the nightly job as healthy and idle three hours after its run, with its run and deadline", async () => {
    const nowMs = T0 + 180_000 + 3 * 3_600_000;
    const { body } = await renderMetrics({ state: nightlyState(), nowMs, ready: true, catalog, catalogLoadedAtMs: T0 - 86_400_000 }, "text");
    expect(valueOf(body, 'etl_health_status{pipeline="nightly"}')).toBe(1);
    expect(valueOf(body, 'etl_runs_total{pipeline="nightly",status="success"}')).toBe(1);
    expect(valueOf(body, 'etl_runs_total{pipeline="nightly",status="failed"}')).toBe(0);
    expect(valueOf(body, 'etl_runs_total{pipeline="nightly",status="cancelled"}')).toBe(0);
    expect(valueOf(body, 'etl_runs_in_progress{pipeline="nightly"}')).toBe(0);
    expect(valueOf(body, 'etl_pipeline_between_runs{pipeline="nightly"}')).toBe(1);
    expect(valueOf(body, 'etl_run_duration_seconds_bucket{pipeline="nightly",le="120"}')).toBe(0);
    expect(valueOf(body, 'etl_run_duration_seconds_bucket{pipeline="nightly",le="300"}')).toBe(1);
    expect(valueOf(body, 'etl_run_duration_seconds_sum{pipeline="nightly"}')).toBe(180);
    expect(valueOf(body, 'etl_run_duration_seconds_count{pipeline="nightly"}')).toBe(1);
    expect(valueOf(body, 'etl_last_run_start_timestamp_seconds{pipeline="nightly"}')).toBe(T0 / 1000);
    expect(valueOf(body, 'etl_last_run_finished_timestamp_seconds{pipeline="nightly"}')).toBe((T0 + 180_000) / 1000);
    expect(valueOf(body, 'etl_last_run_records{pipeline="nightly"}')).toBe(600);
    expect(valueOf(body, 'etl_last_run_duration_seconds{pipeline="nightly"}')).toBe(180);
    expect(valueOf(body, 'etl_last_run_status{pipeline="nightly",status="success"}')).toBe(1);
    expect(valueOf(body, 'etl_last_run_status{pipeline="nightly",status="failed"}')).toBe(0);
    // Tomorrow 02:00 plus the default 15 min of grace; the interval is a day.
    expect(valueOf(body, 'etl_deadline_timestamp_seconds{pipeline="nightly"}')).toBe((T0 + 86_400_000 + 900_000) / 1000);
    expect(valueOf(body, 'etl_schedule_interval_seconds{pipeline="nightly"}')).toBe(86_400);
    expect(valueOf(body, 'etl_pipeline_max_run_duration_seconds{pipeline="nightly"}')).toBe(3600);
    expect(valueOf(body, 'etl_pipeline_min_records{pipeline="nightly"}')).toBe(100);
    expect(valueOf(body, 'etl_pipeline_state{pipeline="nightly",state="idle"}')).toBe(1);
    expect(valueOf(body, 'etl_pipeline_state{pipeline="nightly",state="stale"}')).toBe(0);
    expect(lineOf(body, 'etl_pipeline_info{team="data",pipeline="nightly",kind="batch",schedule="0 2 * * *"}')).toBeDefined();
  });

  it("give a cataloged pipeline that never ran its counters at 0 and a deadline from the catalog's loading", async () => {
    const loaded = Date.UTC(2026, 11, 1, 12);
    const { body } = await renderMetrics({ state: createIngestState(), nowMs: loaded, ready: true, catalog, catalogLoadedAtMs: loaded }, "text");
    for (const status of ["success", "failed", "cancelled"]) expect(valueOf(body, `etl_runs_total{pipeline="monthly",status="${status}"}`)).toBe(0);
    expect(valueOf(body, 'etl_deadline_timestamp_seconds{pipeline="monthly"}')).toBe(Date.UTC(2027, 0, 1, 3, 15) / 1000);
    expect(lineOf(body, 'etl_last_run_records{pipeline="monthly"}')).toBeUndefined();
    expect(lineOf(body, 'etl_pipeline_info{pipeline="monthly",kind="batch",schedule="0 3 1 * *"}')).toBeDefined();
  });

  it("mark a skipped run late after its deadline, and a silent run in progress stale", async () => {
    const state = nightlyState();
    const lateAt = T0 + 86_400_000 + 900_001;
    const late = await renderMetrics({ state, nowMs: lateAt, ready: true, catalog }, "text");
    expect(valueOf(late.body, 'etl_pipeline_state{pipeline="nightly",state="late"}')).toBe(1);
    foldEvent(state, ev(86_400_000, { event: "etl_started", run_id: "r2" }));
    const stale = await renderMetrics({ state, nowMs: T0 + 86_400_000 + 61_000, ready: true, catalog }, "text");
    expect(valueOf(stale.body, 'etl_health_status{pipeline="nightly"}')).toBe(0);
    expect(valueOf(stale.body, 'etl_pipeline_state{pipeline="nightly",state="stale"}')).toBe(1);
    expect(valueOf(stale.body, 'etl_runs_in_progress{pipeline="nightly"}')).toBe(1);
    expect(valueOf(stale.body, 'etl_last_run_start_timestamp_seconds{pipeline="nightly"}')).toBe((T0 + 86_400_000) / 1000);
  });

  it("leave an always-on service as it was: a service, running, never between runs", async () => {
    const state = createIngestState();
    foldEvent(state, { ts: at(0), level: "info", event: "etl_started", pipeline: "etl" });
    foldEvent(state, { ts: at(1000), level: "info", event: "etl_started", pipeline: "etl" });
    const { body } = await renderMetrics({ state, nowMs: T0 + 2000, ready: true }, "text");
    expect(valueOf(body, 'etl_pipeline_between_runs{pipeline="etl"}')).toBe(0);
    expect(valueOf(body, 'etl_runs_restarted_total{pipeline="etl"}')).toBe(1);
    expect(valueOf(body, 'etl_pipeline_state{pipeline="etl",state="running"}')).toBe(1);
    expect(lineOf(body, 'etl_pipeline_info{pipeline="etl",kind="service",schedule=""}')).toBeDefined();
    expect(lineOf(body, 'etl_deadline_timestamp_seconds{pipeline="etl"}')).toBeUndefined();
  });
});
