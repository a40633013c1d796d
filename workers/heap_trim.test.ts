import { describe, expect, it } from "vitest";
import { trimHeapAfterGrowth } from "./heap_trim.ts";

const tick = () => new Promise((r) => setTimeout(r, 1_050));
// Kept and long-lived: promoted to the old space, which grows by some 16 MB.
const grow = () => Array.from({ length: 2_000 }, (_, i) => new Array(1_000).fill(i));

describe("trimHeapAfterGrowth", () => {
  it("collects within a second once the old space grew past the margin", async () => {
    let calls = 0;
    const stop = trimHeapAfterGrowth(1024 * 1024, () => calls++);
    const kept = grow();
    await tick();
    stop();
    expect(kept.length).toBe(2_000);
    expect(calls).toBe(1);
  });

  it("below the margin, collects once when the growth stopped for a second, and not again", async () => {
    let calls = 0;
    const stop = trimHeapAfterGrowth(1024 * 1024 * 1024, () => calls++);
    const kept = grow();
    await tick(); // saw the growth
    expect(calls).toBe(0);
    await tick(); // a second without growth
    await tick();
    await tick();
    stop();
    expect(kept.length).toBe(2_000);
    expect(calls).toBe(1);
  });

  it("does nothing without a way to collect, and finds gc on this runtime", async () => {
    trimHeapAfterGrowth(0, null)();
    // The default reaches V8's gc: it runs, and collects what nothing holds any more.
    const stop = trimHeapAfterGrowth(0);
    let garbage: number[][] | null = grow();
    garbage = null;
    await tick();
    stop();
    expect(garbage).toBeNull();
  });
});
