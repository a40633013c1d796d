import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { recountRuns } from "../../tools/recount_runs.ts";
import type { EtlEvent } from "./events.ts";
import { mergeState } from "./merge_state.ts";
import { foldEvent } from "./reducer.ts";
import { betweenRuns, RESTARTED_REASON, type RunState, RunStateSchema, unmatchedFinishes } from "./runs.ts";
import { createIngestState, type IngestState } from "./state.ts";

const T0 = Date.UTC(2026, 10, 23, 2);
const at = (ms: number) => new Date(T0 + ms).toISOString();
const base = (ms: number, pipeline = "nightly") => ({ ts: at(ms), level: "info" as const, pipeline });

function foldAll(events: readonly EtlEvent[]): IngestState {
  const state = createIngestState();
  for (const event of events) foldEvent(state, event);
  return state;
}

describe("runs", () => {
  it("reads the nightly job of the issue as one successful run, then between runs", () => {
    const state = foldAll([
      { ...base(0), event: "etl_started", run_id: "r1" },
      { ...base(60_000), event: "file_processed", file: "a", records: 10, duration_ms: 50_000 },
      { ...base(120_000), event: "file_processed", file: "b", records: 20, duration_ms: 50_000 },
      { ...base(180_000), event: "file_failed", file: "c", records: 5, duration_ms: 1, error_type: "disk_full", message: "x" },
      { ...base(180_500), event: "etl_finished", run_id: "r1", status: "success" },
    ]);
    const runs = state.runs.nightly!;
    expect(runs.open).toBeNull();
    expect(runs.statusCounts).toEqual({ success: 1, failed: 0, cancelled: 0 });
    expect(runs.last).toEqual({
      runId: "r1", startMs: T0, finishedMs: T0 + 180_500, status: "success", reason: null, records: 35, durationMs: 180_500,
    });
    expect(runs.lastSuccess).toEqual(runs.last);
    expect(betweenRuns(runs)).toBe(true);
    expect(runs.durationBucketCounts.reduce((a, b) => a + b)).toBe(1);
    expect(runs.durationSumMs).toBe(180_500);
  });

  it("takes the finish's own records and duration over the files' when given", () => {
    const state = foldAll([
      { ...base(0), event: "etl_started" },
      { ...base(1000), event: "file_processed", file: "a", records: 10, duration_ms: 5 },
      { ...base(2000), event: "etl_finished", status: "cancelled", records: 3, duration_ms: 1234.6 },
    ]);
    expect(state.runs.nightly!.last).toMatchObject({ status: "cancelled", records: 3, durationMs: 1235 });
    expect(state.runs.nightly!.lastSuccess).toBeNull();
  });

  it("counts a run still open at the next start as failed, restarted, ending at its newest event", () => {
    const state = foldAll([
      { ...base(0), event: "etl_started" },
      { ...base(5000), event: "heartbeat" },
      { ...base(9000), event: "etl_started" },
    ]);
    const runs = state.runs.nightly!;
    expect(runs.statusCounts.failed).toBe(1);
    expect(runs.restartedTotal).toBe(1);
    expect(runs.last).toMatchObject({ status: "failed", reason: RESTARTED_REASON, finishedMs: T0 + 5000, durationMs: 5000 });
    expect(runs.open).toMatchObject({ startMs: T0 + 9000 });
    expect(betweenRuns(runs)).toBe(false);
  });

  it("keeps an always-on service in one open run: never between runs", () => {
    const state = foldAll([{ ...base(0), event: "etl_started" }, { ...base(5000), event: "heartbeat" }]);
    expect(betweenRuns(state.runs.nightly)).toBe(false);
    expect(betweenRuns(foldAll([{ ...base(0), event: "heartbeat" }]).runs.nightly)).toBe(false);
  });

  it("counts finishes without a run in progress and otherwise ignores them", () => {
    const state = foldAll([
      { ...base(0), event: "etl_finished", status: "success" },
      { ...base(1), event: "etl_started" },
      { ...base(2), event: "etl_finished", status: "success" },
      { ...base(3), event: "etl_finished", status: "failed" },
    ]);
    expect(unmatchedFinishes(state.runs.nightly!)).toBe(2);
    expect(state.runs.nightly!.statusCounts).toEqual({ success: 1, failed: 0, cancelled: 0 });
  });
});

// Events of two pipelines, starts and finishes frequent enough to make every case.
const pipelineArb = fc.constantFrom("nightly", "constructor");
const eventArb: fc.Arbitrary<EtlEvent> = fc
  .record({
    kind: fc.constantFrom("etl_started", "etl_finished", "etl_finished", "file_processed", "file_failed", "heartbeat"),
    offset: fc.integer({ min: 0, max: 86_400_000 }),
    pipeline: pipelineArb,
    records: fc.integer({ min: 0, max: 1000 }),
    status: fc.constantFrom("success", "failed", "cancelled"),
    ownRecords: fc.option(fc.integer({ min: 0, max: 1000 })),
    duration: fc.option(fc.double({ min: 0, max: 1e7, noNaN: true })),
  })
  .map(({ kind, offset, pipeline, records, status, ownRecords, duration }) => {
    const common = base(offset, pipeline);
    switch (kind) {
      case "etl_started":
        return { ...common, event: kind };
      case "heartbeat":
        return { ...common, event: kind };
      case "file_processed":
        return { ...common, event: kind, file: "f", records, duration_ms: 10 };
      case "file_failed":
        return { ...common, event: kind, file: "f", records, duration_ms: 10, error_type: "disk_full", message: "x" };
      default:
        return {
          ...common,
          event: "etl_finished",
          status,
          ...(ownRecords === null ? {} : { records: ownRecords }),
          ...(duration === null ? {} : { duration_ms: duration }),
        };
    }
  }) as fc.Arbitrary<EtlEvent>;

/** The fold's runs in the recount's terms. */
function asCounted(runs: RunState) {
  const finished = Object.values(runs.statusCounts).reduce((a, b) => a + b);
  return {
    finished,
    statusCounts: runs.statusCounts,
    restarted: runs.restartedTotal,
    unmatched: unmatchedFinishes(runs),
    open: runs.open === null ? null : { startMs: runs.open.startMs, records: runs.open.records, lastEventMs: runs.open.lastEventMs },
    last: runs.last === null ? null : { status: runs.last.status, records: runs.last.records, durationMs: runs.last.durationMs, endMs: runs.last.finishedMs },
    lastSuccessRecords: runs.lastSuccess?.records ?? null,
    durationSumMs: runs.durationSumMs,
  };
}

function recounted(events: readonly EtlEvent[], pipeline: string) {
  const counted = recountRuns(events)[pipeline]!;
  const done = counted.runs.filter((r) => r.status !== "open");
  const open = counted.runs.find((r) => r.status === "open");
  const last = done[done.length - 1];
  const statusCounts = { success: 0, failed: 0, cancelled: 0 };
  for (const r of done) statusCounts[r.status as keyof typeof statusCounts] += 1;
  return {
    finished: done.length,
    statusCounts,
    restarted: done.filter((r) => r.restarted).length,
    unmatched: counted.unmatchedFinishes,
    open: open === undefined ? null : { startMs: open.startMs, records: open.records, lastEventMs: open.endMs },
    last: last === undefined ? null : { status: last.status, records: last.records, durationMs: last.durationMs, endMs: last.endMs },
    lastSuccessRecords: done.filter((r) => r.status === "success").pop()?.records ?? null,
    durationSumMs: done.reduce((sum, r) => sum + r.durationMs, 0),
  };
}

describe("the run fold (property)", () => {
  it("equals a recount of the runs by hand", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), (events) => {
        const state = foldAll(events);
        for (const name of Object.keys(state.runs)) expect(asCounted(state.runs[name]!)).toEqual(recounted(events, name));
      }),
      { numRuns: 400 },
    );
  });

  it("folded in pieces and merged, and through a checkpoint's JSON, equals one fold from the start", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 5 }), (events, points) => {
        const cuts = [...points].sort((a, b) => a - b).map((p) => Math.min(p, events.length));
        let merged = createIngestState();
        let from = 0;
        for (const p of [...cuts, events.length]) {
          merged = mergeState(merged, foldAll(events.slice(from, p)));
          from = p;
          // A checkpoint between pieces: what is read back is what was saved.
          merged = JSON.parse(JSON.stringify(merged)) as IngestState;
        }
        const whole = foldAll(events);
        expect(merged.runs).toEqual(whole.runs);
        for (const runs of Object.values(merged.runs)) expect(RunStateSchema.parse(runs)).toEqual(runs);
      }),
      { numRuns: 400 },
    );
  });
});
