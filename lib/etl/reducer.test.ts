import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EtlEvent, KNOWN_ERROR_TYPES } from "./events.ts";
import { bucketIndex, foldEvent, OVERFLOW_ERROR_TYPE } from "./reducer.ts";
import { createIngestState, DURATION_BUCKETS_SECONDS, MAX_ERROR_TYPES } from "./state.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const at = (ms: number) => new Date(T0 + ms).toISOString();

const eventArb: fc.Arbitrary<EtlEvent> = fc.oneof(
  fc.record({
    offset: fc.integer({ min: 0, max: 3_600_000 }),
    pipeline: fc.constantFrom("orders", "customers"),
    records: fc.integer({ min: 0, max: 1000 }),
    duration: fc.integer({ min: 0, max: 900_000 }),
  }).map(({ offset, pipeline, records, duration }) => ({
    ts: at(offset), level: "info", event: "file_processed", pipeline, file: "f.csv", records, duration_ms: duration,
  } as EtlEvent)),
  fc.record({
    offset: fc.integer({ min: 0, max: 3_600_000 }),
    pipeline: fc.constantFrom("orders", "customers"),
    records: fc.integer({ min: 0, max: 1000 }),
    errorType: fc.constantFrom(...KNOWN_ERROR_TYPES, "network_split"),
  }).map(({ offset, pipeline, records, errorType }) => ({
    ts: at(offset), level: "error", event: "file_failed", pipeline, file: "f.csv", records, duration_ms: 5,
    error_type: errorType, message: "x",
  } as EtlEvent)),
  fc.record({ offset: fc.integer({ min: 0, max: 3_600_000 }), pipeline: fc.constantFrom("orders", "customers") })
    .map(({ offset, pipeline }) => ({ ts: at(offset), level: "debug", event: "heartbeat", pipeline } as EtlEvent)),
  fc.record({ offset: fc.integer({ min: 0, max: 3_600_000 }), pipeline: fc.constantFrom("orders", "customers") })
    .map(({ offset, pipeline }) => ({ ts: at(offset), level: "info", event: "etl_started", pipeline } as EtlEvent)),
);

describe("foldEvent", () => {
  it("counters equal a recount of the events, in any order", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 200 }), (events) => {
        const state = createIngestState();
        for (const e of events) foldEvent(state, e);
        for (const pipeline of new Set(events.map((e) => e.pipeline))) {
          const mine = events.filter((e) => e.pipeline === pipeline);
          const p = state.pipelines[pipeline]!;
          const done = mine.filter((e) => e.event === "file_processed");
          const failed = mine.filter((e) => e.event === "file_failed");
          expect(p.filesTotal).toBe(done.length);
          expect(p.failuresTotal).toBe(failed.length);
          expect(p.recordsTotal).toBe([...done, ...failed].reduce((s, e) => s + (e as { records: number }).records, 0));
          expect(p.startsTotal).toBe(mine.filter((e) => e.event === "etl_started").length);
          expect(p.durationCount).toBe(done.length);
          expect(p.durationBucketCounts.reduce((a, b) => a + b, 0)).toBe(done.length);
          for (const type of KNOWN_ERROR_TYPES) {
            expect(p.errorsByType[type]).toBe(failed.filter((e) => (e as { error_type: string }).error_type === type).length);
          }
          expect(p.lastEventMs).toBe(Math.max(...mine.map((e) => Date.parse(e.ts))));
          const successes = done.map((e) => Date.parse(e.ts));
          expect(p.lastSuccessMs).toBe(successes.length ? Math.max(...successes) : null);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("counts a failure run and resets it on success", () => {
    const state = createIngestState();
    const fail = { ts: at(0), level: "error", event: "file_failed", pipeline: "etl", file: "f", records: 1, duration_ms: 1, error_type: "disk_full", message: "" } as const;
    foldEvent(state, fail);
    foldEvent(state, fail);
    expect(state.pipelines.etl!.consecutiveFailures).toBe(2);
    foldEvent(state, { ts: at(1), level: "info", event: "file_processed", pipeline: "etl", file: "f", records: 1, duration_ms: 1 });
    expect(state.pipelines.etl!.consecutiveFailures).toBe(0);
  });

  it("folds error types beyond the cap into 'other' and counts the folding", () => {
    const state = createIngestState();
    for (let i = 0; i < MAX_ERROR_TYPES + 3; i++) {
      foldEvent(state, { ts: at(i), level: "error", event: "file_failed", pipeline: "etl", file: "f", records: 0, duration_ms: 1, error_type: `type_${i}`, message: "" });
    }
    const types = state.pipelines.etl!.errorsByType;
    expect(Object.keys(types).length).toBe(MAX_ERROR_TYPES + 1);
    expect(types[OVERFLOW_ERROR_TYPE]).toBe(KNOWN_ERROR_TYPES.length + 3);
    expect(state.errorTypesFolded).toBe(KNOWN_ERROR_TYPES.length + 3);
    expect(state.pipelines.etl!.failuresTotal).toBe(MAX_ERROR_TYPES + 3);
  });
});

describe("foldEvent with names Object.prototype knows", () => {
  it("counts a pipeline and an error type called constructor like any other", () => {
    const state = createIngestState();
    foldEvent(state, { ts: at(0), level: "error", event: "file_failed", pipeline: "constructor", file: "f", records: 2, duration_ms: 1, error_type: "constructor", message: "" });
    foldEvent(state, { ts: at(1), level: "error", event: "file_failed", pipeline: "constructor", file: "f", records: 3, duration_ms: 1, error_type: "tostring", message: "" });
    expect(Object.keys(state.pipelines)).toEqual(["constructor"]);
    expect(state.pipelines["constructor"]!.recordsTotal).toBe(5);
    expect(state.pipelines["constructor"]!.errorsByType["constructor"]).toBe(1);
    expect((Object as unknown as { startsTotal?: number }).startsTotal).toBeUndefined();
  });
});

describe("bucketIndex", () => {
  it("puts a value equal to a bound in that bound's bucket (le)", () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(1.0001)).toBe(1);
    expect(bucketIndex(600)).toBe(DURATION_BUCKETS_SECONDS.length - 1);
    expect(bucketIndex(600.5)).toBe(DURATION_BUCKETS_SECONDS.length);
  });
});
