import { describe, expect, it } from "vitest";
import { trimHeapAfterGrowth } from "./heap_trim.ts";

const tick = () => new Promise((r) => setTimeout(r, 1_150));

describe("trimHeapAfterGrowth", () => {
  it("collects once the old space grew past the margin, not before", async () => {
    let calls = 0;
    const stopQuiet = trimHeapAfterGrowth(1024 * 1024 * 1024, () => calls++);
    let quietCalls = -1;
    const stopEager = trimHeapAfterGrowth(0, () => calls++);
    // Kept and long-lived: promoted to the old space.
    const kept: number[][] = [];
    for (let i = 0; i < 2_000; i++) kept.push(new Array(1_000).fill(i));
    await tick();
    stopEager();
    quietCalls = calls;
    await tick();
    stopQuiet();
    expect(kept.length).toBe(2_000);
    expect(quietCalls).toBe(1);
    expect(calls).toBe(1);
  });

  it("does nothing without a way to collect, and finds gc on this runtime", async () => {
    trimHeapAfterGrowth(0, null)();
    // The default reaches V8's gc: a collection frees what nothing holds any more.
    const stop = trimHeapAfterGrowth(0);
    let garbage: number[][] | null = [];
    for (let i = 0; i < 2_000; i++) garbage.push(new Array(1_000).fill(i));
    garbage = null;
    await tick();
    stop();
    expect(garbage).toBeNull();
  });
});
