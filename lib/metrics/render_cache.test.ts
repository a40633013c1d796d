import { describe, expect, it } from "vitest";
import { parseCatalog } from "../catalog/catalog.ts";
import { ingestLine } from "../etl/ingest.ts";
import { createIngestState } from "../etl/state.ts";
import type { Snapshot } from "../etl/snapshot.ts";
import { renderMetrics } from "./render.ts";
import { perSecondRenderer } from "./render_cache.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const line = (ms: number, records: number) =>
  JSON.stringify({ ts: new Date(T0 + ms).toISOString(), level: "info", event: "file_processed", pipeline: "etl", file: "a", records, duration_ms: 1000 });

function setup() {
  const state = createIngestState();
  ingestLine(state, JSON.stringify({ ts: new Date(T0).toISOString(), level: "info", event: "etl_started", pipeline: "etl" }));
  const exporter = { checkpointSavedAtMs: null, rotations: 0, truncations: 0, filesTailed: 1 };
  const at = (nowMs: number): Snapshot => ({ state, nowMs, ready: true, exporter });
  return { state, exporter, at, render: perSecondRenderer() };
}

describe("perSecondRenderer", () => {
  it("reuses the body within a second while nothing is read, rendered as of its first scrape", () => {
    const { at, render } = setup();
    const first = render(at(T0 + 10_100), "text");
    expect(first).toEqual(renderMetrics(at(T0 + 10_100), "text"));
    expect(render(at(T0 + 10_999), "text")).toBe(first);
    // The seconds-since gauges move on with the next second.
    const next = render(at(T0 + 11_000), "text");
    expect(next).not.toBe(first);
    expect(next).toEqual(renderMetrics(at(T0 + 11_000), "text"));
  });

  it("renders again at once when a line was read, whatever its result", () => {
    const { state, at, render } = setup();
    const first = render(at(T0 + 10_100), "text");
    ingestLine(state, line(10_000, 7));
    const after = render(at(T0 + 10_200), "text");
    expect(after.body).toContain('etl_records_total{pipeline="etl"} 7');
    ingestLine(state, "not json");
    const third = render(at(T0 + 10_300), "text");
    expect(third).not.toBe(after);
    expect(third.body).toContain('etl_exporter_log_lines_total{result="malformed"} 1');
    expect(first).not.toBe(after);
  });

  it("keeps one body per format, and renders again for new facts, state or process families", () => {
    const { at, render, exporter } = setup();
    const text = render(at(T0 + 5_000), "text");
    const openMetrics = render(at(T0 + 5_001), "openmetrics");
    expect(openMetrics.contentType).toMatch(/^application\/openmetrics-text/);
    expect(render(at(T0 + 5_002), "text")).toBe(text);
    expect(render(at(T0 + 5_003), "openmetrics")).toBe(openMetrics);
    exporter.rotations = 1;
    expect(render(at(T0 + 5_004), "text").body).toContain('etl_exporter_log_rotations_total{kind="rename"} 1');
    const other = { ...at(T0 + 5_005), state: createIngestState() };
    expect(render(other, "text").body).not.toContain("pipeline=");
    const withProcess = render(at(T0 + 5_006), "text", [{ name: "p", help: "P.", type: "gauge", values: [{ labels: {}, value: 1 }] }]);
    expect(withProcess.body).toContain("\np 1\n");
  });

  it("renders again within the second for a new catalog (re-read without a line read)", () => {
    const { at, render } = setup();
    const before = render(at(T0 + 7_000), "text");
    expect(before.body).not.toContain("etl_pipeline_info{team=");
    const result = parseCatalog('{"pipelines": {"etl": {"every": "1h", "labels": {"team": "data"}}}}');
    if (!result.ok) throw new Error(result.problems.join("; "));
    const after = render({ ...at(T0 + 7_001), catalog: result.catalog, catalogLoadedAtMs: T0 }, "text");
    expect(after.body).toContain('etl_pipeline_info{team="data",pipeline="etl",kind="batch",schedule="every 1h"} 1');
    expect(after.body).toMatch(/etl_deadline_timestamp_seconds\{pipeline="etl"\} \d+/);
  });
});
