import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assessPipeline } from "./health.ts";
import { ingestLine } from "./ingest.ts";
import { fitBlock, ingestBlock } from "./ingest_block.ts";
import { clampToClock, DEFAULT_INGEST_LIMITS, describeDrop, EARLIEST_EVENT_MS, type IngestLimits, pipelineFits } from "./limits.ts";
import { mergeState } from "./merge_state.ts";
import { createIngestState } from "./state.ts";

const NOW = Date.UTC(2026, 10, 23, 10);
const limits = (maxPipelines: number): IngestLimits => ({ maxPipelines, maxAheadMs: 5 * 60_000 });
const heartbeat = (pipeline: string, ts = new Date(NOW).toISOString()) =>
  JSON.stringify({ ts, level: "debug", event: "heartbeat", pipeline });
const processed = (pipeline: string, ts: string, records: number) =>
  JSON.stringify({ ts, level: "info", event: "file_processed", pipeline, file: "f.csv", records, duration_ms: 1000 });
const encode = (lines: string[]) => new TextEncoder().encode(lines.map((l) => l + "\n").join(""));

describe("the pipeline cap", () => {
  it("drops and counts the lines of pipelines beyond the cap, creating no state for them", () => {
    const state = createIngestState();
    const outcomes = Array.from({ length: 10 }, (_, i) => ingestLine(state, heartbeat(`run-${i}`), limits(4), NOW));
    expect(Object.keys(state.pipelines)).toEqual(["run-0", "run-1", "run-2", "run-3"]);
    expect(state.lines.parsed).toBe(10);
    expect(state.dropped).toEqual({ pipeline_limit: 6, clock_ahead: 0, too_old: 0 });
    expect(outcomes[9]).toEqual({
      result: "dropped",
      reason: "pipeline_limit",
      problem: "run-9: more than 4 pipelines (raise ETL_MAX_PIPELINES / --max-pipelines)",
    });
    // A pipeline already tracked goes on being counted at the cap.
    expect(ingestLine(state, processed("run-2", new Date(NOW).toISOString(), 5), limits(4), NOW).result).toBe("parsed");
    expect(state.pipelines["run-2"]!.recordsTotal).toBe(5);
  });

  it("lets the names in alwaysFit in past the cap (the hook for cataloged pipelines)", () => {
    const state = createIngestState();
    const capped = { ...limits(1), alwaysFit: new Set(["orders"]) };
    ingestLine(state, heartbeat("a"), capped, NOW);
    ingestLine(state, heartbeat("b"), capped, NOW);
    ingestLine(state, heartbeat("orders"), capped, NOW);
    expect(Object.keys(state.pipelines)).toEqual(["a", "orders"]);
    expect(pipelineFits(state, "c", capped)).toBe(false);
  });

  it("applies by default, at 500 pipelines", () => {
    const state = createIngestState();
    for (let i = 0; i < 505; i++) ingestLine(state, heartbeat(`p${i}`));
    expect(Object.keys(state.pipelines).length).toBe(500);
    expect(state.dropped.pipeline_limit).toBe(5);
  });

  it("gives the same state read in blocks (the catch-up) as read line by line", () => {
    const line = fc.record({
      pipeline: fc.constantFrom("a", "b", "c", "d", "e", "f", "g"),
      offsetMs: fc.integer({ min: -60_000, max: 0 }),
      records: fc.integer({ min: 0, max: 100 }),
      kind: fc.boolean(),
    }).map(({ pipeline, offsetMs, records, kind }) => {
      const ts = new Date(NOW + offsetMs).toISOString();
      return kind ? processed(pipeline, ts, records) : heartbeat(pipeline, ts);
    });
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (lines, cuts, cap) => {
          const sequential = createIngestState();
          for (const l of lines) ingestLine(sequential, l, limits(cap), NOW);
          const bounds = [...new Set(cuts.map((c) => c % (lines.length + 1)))].sort((x, y) => x - y);
          const pieces = [0, ...bounds, lines.length].slice(1).map((end, i, ends) => lines.slice(i === 0 ? 0 : ends[i - 1], end));
          const merged = createIngestState();
          for (const piece of pieces) {
            const blockLimits = { ...limits(cap), alwaysFit: new Set(Object.keys(merged.pipelines)) };
            const block = ingestBlock(encode(piece), 4096, { limits: blockLimits, nowMs: NOW });
            const fitted = fitBlock(merged, block, limits(cap));
            mergeState(merged, fitted.state);
          }
          merged.bytesRead = sequential.bytesRead;
          expect(merged).toEqual(sequential);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("event times", () => {
  it("drops events dated past the allowed skew ahead of the clock, or before 2000", () => {
    const state = createIngestState();
    const far = ingestLine(state, heartbeat("etl", "9999-12-31T23:59:59.999Z"), DEFAULT_INGEST_LIMITS, NOW);
    const sixMinutes = ingestLine(state, heartbeat("etl", new Date(NOW + 6 * 60_000).toISOString()), DEFAULT_INGEST_LIMITS, NOW);
    const old = ingestLine(state, heartbeat("etl", "1999-12-31T23:59:59.999Z"), DEFAULT_INGEST_LIMITS, NOW);
    // Year -1 once the offset is applied: what /health used to show as -000001-12-31T00:01:00.000Z.
    const negative = ingestLine(state, heartbeat("etl", "0000-01-01T00:00:00.000+23:59"), DEFAULT_INGEST_LIMITS, NOW);
    expect([far.result, sixMinutes.result, old.result, negative.result]).toEqual(["dropped", "dropped", "dropped", "dropped"]);
    expect(state.dropped).toEqual({ pipeline_limit: 0, clock_ahead: 2, too_old: 2 });
    expect(state.pipelines).toEqual({});
    expect(state.lines.parsed).toBe(4);
    expect(describeDrop("too_old", DEFAULT_INGEST_LIMITS)).toBe(`dated before ${new Date(EARLIEST_EVENT_MS).toISOString()}`);
  });

  it("takes an event a little ahead of the clock as happening now, so stall detection still works", () => {
    const state = createIngestState();
    ingestLine(state, processed("etl", new Date(NOW - 1000).toISOString(), 20), DEFAULT_INGEST_LIMITS, NOW);
    const ahead = new Date(NOW + 4 * 60_000).toISOString();
    expect(ingestLine(state, processed("etl", ahead, 20), DEFAULT_INGEST_LIMITS, NOW).result).toBe("parsed");
    const etl = state.pipelines.etl!;
    expect(etl.lastEventMs).toBe(NOW);
    expect(etl.lastSuccessMs).toBe(NOW);
    // Both events are in the rate window, in the last two seconds.
    const seconds = etl.window.filter((slot) => slot.records > 0).map((slot) => slot.second);
    expect(seconds.sort((x, y) => x - y)).toEqual([NOW / 1000 - 1, NOW / 1000]);
    // Seven minutes on, the pipeline is stale, as it would be without the line from the future.
    const later = NOW + 7 * 60_000;
    expect(assessPipeline(etl, later)).toEqual({ healthy: false, reasons: ["no event for 420 s (limit 60 s)"] });
  });

  it("sets back the future times a checkpoint written before the limits may hold", () => {
    const state = createIngestState();
    // Read without a clock, as the exporter used to: the line from the future lands whole.
    ingestLine(state, processed("etl", "9999-12-31T23:59:59.999Z", 20));
    ingestLine(state, processed("ok", new Date(NOW - 1000).toISOString(), 20));
    expect(clampToClock(state, NOW)).toBe(1);
    const etl = state.pipelines.etl!;
    expect([etl.firstEventMs, etl.lastEventMs, etl.lastSuccessMs]).toEqual([NOW, NOW, NOW]);
    expect(etl.window.every((slot) => slot.second === -1)).toBe(true);
    expect(assessPipeline(etl, NOW + 7 * 60_000).healthy).toBe(false);
    expect(state.pipelines.ok!.lastEventMs).toBe(NOW - 1000);
    expect(clampToClock(state, NOW)).toBe(0);
  });

  it("checks only the floor when no clock is given (replaying old logs)", () => {
    const state = createIngestState();
    expect(ingestLine(state, heartbeat("etl", "9999-12-31T23:59:59.999Z")).result).toBe("parsed");
    expect(ingestLine(state, heartbeat("etl", "1970-01-01T00:00:00.000Z")).result).toBe("dropped");
  });
});

describe("counters at the edge of exact integers", () => {
  it("saturate at 2^53 - 1 instead of passing it, read line by line or merged", () => {
    const ts = new Date(NOW).toISOString();
    const state = createIngestState();
    ingestLine(state, processed("etl", ts, Number.MAX_SAFE_INTEGER));
    ingestLine(state, processed("etl", ts, Number.MAX_SAFE_INTEGER));
    expect(state.pipelines.etl!.recordsTotal).toBe(Number.MAX_SAFE_INTEGER);
    const slot = state.pipelines.etl!.window.find((s) => s.second === NOW / 1000)!;
    expect(slot.records).toBe(Number.MAX_SAFE_INTEGER);

    const a = ingestBlock(encode([processed("etl", ts, Number.MAX_SAFE_INTEGER - 1)]), 4096);
    const b = ingestBlock(encode([processed("etl", ts, 2)]), 4096);
    const merged = mergeState(a.state, b.state);
    expect(merged.pipelines.etl!.recordsTotal).toBe(Number.MAX_SAFE_INTEGER);
  });
});
