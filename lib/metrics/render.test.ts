import { describe, expect, it } from "vitest";
import { foldEvent } from "../etl/reducer.ts";
import { createIngestState } from "../etl/state.ts";
import { renderMetrics } from "./render.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const at = (ms: number) => new Date(T0 + ms).toISOString();

function sampleState() {
  const state = createIngestState();
  foldEvent(state, { ts: at(0), level: "info", event: "etl_started", pipeline: "etl" });
  foldEvent(state, { ts: at(10_000), level: "info", event: "file_processed", pipeline: "etl", file: "a", records: 120, duration_ms: 12_000 });
  foldEvent(state, { ts: at(40_000), level: "info", event: "file_processed", pipeline: "etl", file: "b", records: 300, duration_ms: 30_000 });
  foldEvent(state, { ts: at(50_000), level: "error", event: "file_failed", pipeline: "etl", file: "c", records: 60, duration_ms: 6_000, error_type: "disk_full", message: "full" });
  state.lines.parsed = 4;
  state.lines.malformed = 2;
  state.bytesRead = 1234;
  return state;
}

const lineOf = (body: string, prefix: string) => body.split("\n").find((l) => l.startsWith(prefix + " "));
const valueOf = (body: string, prefix: string) => Number(lineOf(body, prefix)?.split(" ").at(-1));

describe("renderMetrics", () => {
  it("exposes the reference stack's nine names with exact values", async () => {
    const { body, contentType } = await renderMetrics({ state: sampleState(), nowMs: T0 + 60_000, ready: true }, "text");
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(valueOf(body, 'etl_records_total{pipeline="etl"}')).toBe(480);
    expect(valueOf(body, 'etl_files_total{pipeline="etl"}')).toBe(2);
    expect(valueOf(body, 'etl_failures_total{pipeline="etl"}')).toBe(1);
    expect(valueOf(body, 'etl_errors_by_type_total{pipeline="etl",error_type="disk_full"}')).toBe(1);
    expect(valueOf(body, 'etl_errors_by_type_total{pipeline="etl",error_type="permission_denied"}')).toBe(0);
    // The 60 s window ending with now's second holds seconds 1..60: all three files, failed one included.
    expect(valueOf(body, 'etl_current_rate_records_per_second{pipeline="etl"}')).toBe(480 / 60);
    expect(valueOf(body, 'etl_avg_processing_time_seconds{pipeline="etl"}')).toBe(21);
    expect(valueOf(body, 'etl_seconds_since_last_success{pipeline="etl"}')).toBe(20);
    expect(valueOf(body, 'etl_health_status{pipeline="etl"}')).toBe(1);
    expect(valueOf(body, 'etl_uptime_seconds{pipeline="etl"}')).toBe(60);
    expect(valueOf(body, 'etl_last_success_timestamp_seconds{pipeline="etl"}')).toBe((T0 + 40_000) / 1000);
    expect(valueOf(body, 'etl_file_processing_duration_seconds_bucket{pipeline="etl",le="10"}')).toBe(0);
    expect(valueOf(body, 'etl_file_processing_duration_seconds_bucket{pipeline="etl",le="15"}')).toBe(1);
    expect(valueOf(body, 'etl_file_processing_duration_seconds_bucket{pipeline="etl",le="30"}')).toBe(2);
    expect(valueOf(body, 'etl_file_processing_duration_seconds_bucket{pipeline="etl",le="+Inf"}')).toBe(2);
    expect(valueOf(body, 'etl_file_processing_duration_seconds_sum{pipeline="etl"}')).toBe(42);
    expect(valueOf(body, 'etl_file_processing_duration_seconds_count{pipeline="etl"}')).toBe(2);
    expect(body).toContain("# TYPE etl_records_total counter");
    expect(body).toContain("# TYPE etl_health_status gauge");
    expect(body).not.toContain("etl_exporter_");
  });

  it("turns health to 0 after 60 s of silence and drops the average when no file finished for 5 minutes", async () => {
    const { body } = await renderMetrics({ state: sampleState(), nowMs: T0 + 50_000 + 361_000, ready: true }, "text");
    expect(valueOf(body, 'etl_health_status{pipeline="etl"}')).toBe(0);
    expect(valueOf(body, 'etl_current_rate_records_per_second{pipeline="etl"}')).toBe(0);
    expect(lineOf(body, 'etl_avg_processing_time_seconds{pipeline="etl"}')).toBeUndefined();
  });

  it("adds the exporter's own families when the snapshot has them", async () => {
    const exporter = { checkpointSavedAtMs: T0 + 55_000, rotations: 2, truncations: 1, filesTailed: 3 };
    const { body } = await renderMetrics({ state: sampleState(), nowMs: T0 + 60_000, ready: false, exporter }, "text");
    expect(valueOf(body, 'etl_exporter_log_lines_total{result="parsed"}')).toBe(4);
    expect(valueOf(body, 'etl_exporter_log_lines_total{result="malformed"}')).toBe(2);
    expect(valueOf(body, 'etl_exporter_log_lines_total{result="rejected"}')).toBe(0);
    expect(valueOf(body, "etl_exporter_log_bytes_total")).toBe(1234);
    expect(valueOf(body, 'etl_exporter_log_rotations_total{kind="rename"}')).toBe(2);
    expect(valueOf(body, "etl_exporter_checkpoint_age_seconds")).toBe(5);
    expect(valueOf(body, "etl_exporter_ready")).toBe(0);
    expect(valueOf(body, "etl_exporter_log_files")).toBe(3);
  });

  it("speaks OpenMetrics when asked, ending with # EOF", async () => {
    const { body, contentType } = await renderMetrics({ state: sampleState(), nowMs: T0 + 60_000, ready: true }, "openmetrics");
    expect(contentType).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(body).toContain("# TYPE etl_records counter");
    expect(valueOf(body, 'etl_records_total{pipeline="etl"}')).toBe(480);
    expect(body.endsWith("# EOF\n")).toBe(true);
  });

  it("renders an empty state without pipelines and without error", async () => {
    const { body } = await renderMetrics({ state: createIngestState(), nowMs: T0, ready: true }, "text");
    expect(body).toContain("# TYPE etl_records_total counter");
    expect(body).not.toContain("pipeline=");
  });
});
