import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EtlEvent, KNOWN_ERROR_TYPES } from "./events.ts";
import { mergeState } from "./merge_state.ts";
import { foldEvent, OVERFLOW_ERROR_TYPE } from "./reducer.ts";
import { createIngestState, type IngestState, MAX_ERROR_TYPES, WINDOW_SECONDS } from "./state.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const at = (ms: number) => new Date(T0 + ms).toISOString();

// Offsets span several windows and go back before 1970 now and then, in any order.
const offsetArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 * WINDOW_SECONDS * 1000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
  { weight: 1, arbitrary: fc.constant(-T0 - 1500) },
);
const pipelineArb = fc.constantFrom("etl", "orders", "constructor");
// Unbiased, and with tenths of milliseconds: sums of such seconds are where the order of float additions shows.
const durationArb = fc.oneof(
  fc.noBias(fc.integer({ min: 0, max: 900_000 })),
  fc.noBias(fc.integer({ min: 0, max: 9_000_000 })).map((n) => n / 10),
  fc.double({ min: 0, max: 1e6, noNaN: true }),
);

function eventArb(errorTypes: readonly string[]): fc.Arbitrary<EtlEvent> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ offset: offsetArb, pipeline: pipelineArb, records: fc.integer({ min: 0, max: 1000 }), duration: durationArb })
        .map(({ offset, pipeline, records, duration }) => ({
          ts: at(offset), level: "info", event: "file_processed", pipeline, file: "f.csv", records, duration_ms: duration,
        } as EtlEvent)),
    },
    fc.record({
      offset: offsetArb,
      pipeline: pipelineArb,
      records: fc.integer({ min: 0, max: 1000 }),
      errorType: fc.constantFrom(...errorTypes),
      duration: durationArb,
    }).map(({ offset, pipeline, records, errorType, duration }) => ({
      ts: at(offset), level: "error", event: "file_failed", pipeline, file: "f.csv", records, duration_ms: duration,
      error_type: errorType, message: "x",
    } as EtlEvent)),
    fc.record({ offset: offsetArb, pipeline: pipelineArb })
      .map(({ offset, pipeline }) => ({ ts: at(offset), level: "debug", event: "heartbeat", pipeline } as EtlEvent)),
    fc.record({ offset: offsetArb, pipeline: pipelineArb })
      .map(({ offset, pipeline }) => ({ ts: at(offset), level: "info", event: "etl_started", pipeline } as EtlEvent)),
  );
}

// Under the cap: the 5 known types, `other` and names that live on Object.prototype.
const FEW_TYPES = [...KNOWN_ERROR_TYPES, OVERFLOW_ERROR_TYPE, "constructor", "to_string", "network_split"];

/** The fold of a stretch, with its line counts. */
function fold(events: readonly EtlEvent[]): { state: IngestState } {
  const state = createIngestState();
  for (const event of events) {
    foldEvent(state, event);
    state.lines.parsed += 1;
    state.bytesRead += 10;
  }
  return { state };
}

/** Cuts `events` at the (sorted, clamped) points. */
function cut<T>(items: readonly T[], points: readonly number[]): T[][] {
  const at = [...points].map((p) => Math.min(p, items.length)).sort((a, b) => a - b);
  const pieces: T[][] = [];
  let from = 0;
  for (const p of at) {
    pieces.push(items.slice(from, p));
    from = p;
  }
  pieces.push(items.slice(from));
  return pieces;
}

function mergeAll(pieces: readonly (readonly EtlEvent[])[]): IngestState {
  const merged = createIngestState();
  for (const piece of pieces) mergeState(merged, fold(piece).state);
  return merged;
}

describe("mergeState", () => {
  it("merging the folds of two halves gives the fold of the whole, bit for bit", () => {
    fc.assert(
      fc.property(fc.array(eventArb(FEW_TYPES), { maxLength: 300 }), fc.nat(), (events, point) => {
        const [a, b] = cut(events, [point % (events.length + 1)]);
        const { state } = fold(a!);
        const later = fold(b!);
        expect(mergeState(state, later.state)).toEqual(fold(events).state);
      }),
      { numRuns: 500 },
    );
  });

  it("merging the folds of k pieces in order gives the fold of the whole", () => {
    fc.assert(
      fc.property(fc.array(eventArb(FEW_TYPES), { maxLength: 300 }), fc.array(fc.nat({ max: 300 }), { maxLength: 8 }), (events, points) => {
        const merged = mergeAll(cut(events, points));
        const whole = fold(events).state;
        expect(merged).toEqual(whole);
        // Same key order too, so the rendered metrics come out in the same order.
        expect(JSON.stringify(merged)).toBe(JSON.stringify(whole));
      }),
      { numRuns: 300 },
    );
  });

  it("adds durations exactly, in any grouping: they are whole microseconds", () => {
    const done = (ms: number): EtlEvent => ({
      ts: at(0), level: "info", event: "file_processed", pipeline: "etl", file: "f", records: 1, duration_ms: ms,
    });
    // In floating point (0.1 + 0.2) + 0.3 !== 0.1 + (0.2 + 0.3); as microseconds both are 600.
    for (const [ms, us] of [[100, 600_000], [0.1, 600]] as const) {
      const a = [done(ms)];
      const b = [done(2 * ms), done(3 * ms)];
      const whole = fold([...a, ...b]).state.pipelines.etl!;
      const merged = mergeState(fold(a).state, fold(b).state).pipelines.etl!;
      expect(merged).toEqual(whole);
      expect(merged.durationSumUs).toBe(us);
      expect(merged.window[Math.floor(T0 / 1000) % WINDOW_SECONDS]!.durationUs).toBe(us);
    }
  });

  it("keeps a window slot's latest second, adding up the events of a second split between the halves", () => {
    const event = (offset: number, records: number): EtlEvent => ({
      ts: at(offset), level: "info", event: "file_processed", pipeline: "etl", file: "f.csv", records, duration_ms: 0.1,
    });
    const second = Math.floor(T0 / 1000);
    // Same index (second % 300): second, second + 300, and the same second in both halves.
    const a = [event(0, 1), event(300_000, 2), event(300_500, 3)];
    const b = [event(300_900, 4), event(0, 5), event(600_000 - 1, 6)];
    const later = fold(b);
    const merged = mergeState(fold(a).state, later.state);
    const slot = merged.pipelines.etl!.window[second % WINDOW_SECONDS]!;
    expect(slot).toEqual({ second: second + 300, records: 2 + 3 + 4, files: 3, durationUs: 300 });
    expect(merged).toEqual(fold([...a, ...b]).state);
  });

  it("carries consecutive failures over a half without a success, and restarts them after one", () => {
    const failed = (offset: number): EtlEvent => ({
      ts: at(offset), level: "error", event: "file_failed", pipeline: "etl", file: "f", records: 0, duration_ms: 1,
      error_type: "disk_full", message: "x",
    });
    const done = (offset: number): EtlEvent => ({
      ts: at(offset), level: "info", event: "file_processed", pipeline: "etl", file: "f", records: 0, duration_ms: 1,
    });
    const cases: EtlEvent[][][] = [
      [[failed(0), failed(1)], [failed(2)]],
      [[failed(0), failed(1)], [done(2), failed(3)]],
      [[failed(0)], [failed(1), done(2)]],
      [[done(0)], []],
    ];
    for (const pieces of cases) {
      expect(mergeAll(pieces).pipelines.etl!.consecutiveFailures).toBe(fold(pieces.flat()).state.pipelines.etl!.consecutiveFailures);
    }
  });

  it("past the cap of error types keeps every failure counted, whatever types fold", () => {
    const many = Array.from({ length: MAX_ERROR_TYPES + 10 }, (_, i) => `type_${i}`);
    fc.assert(
      fc.property(fc.array(eventArb([...many, OVERFLOW_ERROR_TYPE]), { maxLength: 300 }), fc.array(fc.nat({ max: 300 }), { maxLength: 6 }), (events, points) => {
        const merged = mergeAll(cut(events, points));
        const whole = fold(events).state;
        for (const name of Object.keys(whole.pipelines)) {
          const { errorsByType, ...rest } = merged.pipelines[name]!;
          const { errorsByType: expectedTypes, ...expectedRest } = whole.pipelines[name]!;
          expect(rest).toEqual(expectedRest);
          const total = Object.values(errorsByType).reduce((sum, n) => sum + n, 0);
          expect(total).toBe(rest.failuresTotal);
          expect(Object.values(expectedTypes).reduce((sum, n) => sum + n, 0)).toBe(total);
          // Bounded as the reducer bounds it: the cap, plus `other`.
          expect(Object.keys(errorsByType).length).toBeLessThanOrEqual(MAX_ERROR_TYPES + 1);
        }
        expect(merged.lines).toEqual(whole.lines);
      }),
      { numRuns: 200 },
    );
  });

  it("folds a type new to a state at the cap into other, counting it in errorTypesFolded", () => {
    const failure = (type: string): EtlEvent => ({
      ts: at(0), level: "error", event: "file_failed", pipeline: "etl", file: "f", records: 0, duration_ms: 1,
      error_type: type, message: "x",
    });
    const fill = Array.from({ length: MAX_ERROR_TYPES - KNOWN_ERROR_TYPES.length }, (_, i) => failure(`type_${i}`));
    const later = fold([failure("late_one"), failure("late_one")]);
    const merged = mergeState(fold(fill).state, later.state);
    expect(merged.pipelines.etl!.errorsByType[OVERFLOW_ERROR_TYPE]).toBe(2);
    expect(merged.errorTypesFolded).toBe(2);
    expect(merged).toEqual(fold([...fill, failure("late_one"), failure("late_one")]).state);
  });

  it("shares nothing with the later state", () => {
    const event: EtlEvent = {
      ts: at(0), level: "error", event: "file_failed", pipeline: "etl", file: "f", records: 3, duration_ms: 1,
      error_type: "disk_full", message: "x",
    };
    const later = fold([event]);
    const merged = mergeState(createIngestState(), later.state);
    const before = structuredClone(merged);
    foldEvent(later.state, event);
    later.state.pipelines.etl!.durationBucketCounts[0] = 99;
    expect(merged).toEqual(before);
  });
});
