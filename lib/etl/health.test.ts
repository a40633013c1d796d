import { describe, expect, it } from "vitest";
import { assessHealth, assessPipeline } from "./health.ts";
import { foldEvent } from "./reducer.ts";
import { createIngestState, createPipelineState } from "./state.ts";

describe("assessPipeline", () => {
  it("is healthy up to exactly 60 s of silence, unhealthy after", () => {
    const p = createPipelineState(1_000);
    expect(assessPipeline(p, 61_000)).toEqual({ healthy: true, reasons: [] });
    expect(assessPipeline(p, 61_001).healthy).toBe(false);
    expect(assessPipeline(p, 61_001).reasons[0]).toMatch(/^no event for 60 s/);
  });

  it("is unhealthy after six failures in a row", () => {
    const p = createPipelineState(0);
    p.consecutiveFailures = 5;
    expect(assessPipeline(p, 0).healthy).toBe(true);
    p.consecutiveFailures = 6;
    expect(assessPipeline(p, 0)).toEqual({ healthy: false, reasons: ["last 6 files failed in a row"] });
  });

  it("honours a custom policy", () => {
    const p = createPipelineState(0);
    expect(assessPipeline(p, 5_001, { staleAfterMs: 5_000, maxConsecutiveFailures: 1 }).healthy).toBe(false);
  });
});

describe("assessHealth", () => {
  it("is unhealthy with no pipeline and when any pipeline is", () => {
    const state = createIngestState();
    expect(assessHealth(state, 0).healthy).toBe(false);
    state.pipelines.a = createPipelineState(0);
    state.pipelines.b = createPipelineState(0);
    expect(assessHealth(state, 1).healthy).toBe(true);
    state.pipelines.b.consecutiveFailures = 6;
    const verdict = assessHealth(state, 1);
    expect(verdict.healthy).toBe(false);
    expect(verdict.pipelines.a!.healthy).toBe(true);
    expect(verdict.pipelines.b!.healthy).toBe(false);
  });
});

describe("assessPipeline between runs", () => {
  const started = { ts: "2026-11-23T02:00:00.000Z", level: "info", pipeline: "nightly" } as const;
  it("is not stale after etl_finished, and is stale again once a new run goes silent", () => {
    const state = createIngestState();
    foldEvent(state, { ...started, event: "etl_started" });
    foldEvent(state, { ...started, ts: "2026-11-23T02:00:10.000Z", event: "etl_finished", status: "success" });
    const p = state.pipelines.nightly!;
    const threeHours = Date.parse("2026-11-23T05:00:10.000Z");
    expect(assessPipeline(p, threeHours, undefined, state.runs.nightly)).toEqual({ healthy: true, reasons: [] });
    // Without the runs (an always-on service), the same silence is stale, as before.
    expect(assessPipeline(p, threeHours).healthy).toBe(false);
    foldEvent(state, { ...started, ts: "2026-11-23T05:00:00.000Z", event: "etl_started" });
    expect(assessPipeline(p, Date.parse("2026-11-23T05:01:00.001Z"), undefined, state.runs.nightly).healthy).toBe(false);
    expect(assessHealth(state, Date.parse("2026-11-23T05:01:00.000Z")).healthy).toBe(true);
  });
});
