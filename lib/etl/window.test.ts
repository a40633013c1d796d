import { describe, expect, it } from "vitest";
import { foldEvent } from "./reducer.ts";
import { createIngestState, WINDOW_SECONDS } from "./state.ts";
import { windowTotals, windowTotalsOver } from "./window.ts";

const processed = (ms: number, records: number) =>
  ({ ts: new Date(ms).toISOString(), level: "info", event: "file_processed", pipeline: "etl", file: "f", records, duration_ms: 1000 }) as const;

describe("windowTotals", () => {
  it("sums the seconds that end with now's second, boundaries exact", () => {
    const state = createIngestState();
    const t = 1_800_000_000_000;
    foldEvent(state, processed(t - 60_000, 1)); // second now-60: outside a 60 s window
    foldEvent(state, processed(t - 59_000, 10)); // second now-59: inside
    foldEvent(state, processed(t + 999, 100)); // same second as now
    const p = state.pipelines.etl!;
    expect(windowTotals(p, t, 60).records).toBe(110);
    expect(windowTotals(p, t, 61).records).toBe(111);
    expect(windowTotals(p, t, 60).files).toBe(2);
  });

  it("forgets what is older than the ring, and ignores events too old for it", () => {
    const state = createIngestState();
    const t = 1_800_000_000_000;
    foldEvent(state, processed(t, 5));
    foldEvent(state, processed(t + WINDOW_SECONDS * 1000, 7)); // reuses the same slot
    foldEvent(state, processed(t, 9)); // now older than the slot's second: totals only
    const p = state.pipelines.etl!;
    expect(windowTotals(p, t + WINDOW_SECONDS * 1000, WINDOW_SECONDS).records).toBe(7);
    expect(p.recordsTotal).toBe(21);
  });

  it("rejects a window longer than the ring", () => {
    const state = createIngestState();
    foldEvent(state, processed(0, 1));
    expect(() => windowTotals(state.pipelines.etl!, 0, WINDOW_SECONDS + 1)).toThrow(RangeError);
  });

  it("sums several windows in one pass, each as alone (and as the slots say, counted by hand)", () => {
    const state = createIngestState();
    const t = 1_800_000_000_000;
    for (const [ago, records] of [[0, 1], [59_000, 2], [60_000, 4], [299_000, 8]] as const) {
      foldEvent(state, processed(t - ago, records));
    }
    const p = state.pipelines.etl!;
    const [minute, five] = windowTotalsOver(p, t, [60, 300]);
    expect(minute).toEqual({ records: 3, files: 2, durationUs: 2_000_000 });
    expect(five).toEqual({ records: 15, files: 4, durationUs: 4_000_000 });
    expect([minute, five]).toEqual([windowTotals(p, t, 60), windowTotals(p, t, 300)]);
    expect(() => windowTotalsOver(p, t, [60, 301])).toThrow(RangeError);
  });
});
