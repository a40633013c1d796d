import { describe, expect, it } from "vitest";
import v8 from "node:v8";
import vm from "node:vm";
import { compactingGc, trimHeapAfterGrowth } from "./heap_trim.ts";

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

  it("compacts: a burst's sparse survivors give their pages back at once, which a plain full collection does not", () => {
    const collect = compactingGc();
    expect(collect).not.toBeNull();
    // compactingGc exposed gc; a fresh context reaches the plain one.
    const gc = vm.runInNewContext("gc") as () => void;
    const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space")!;
    const free = () => oldSpace().space_size - oldSpace().space_used_size;
    // One object in 50 of 300,000 survives: every old page keeps a few, none is empty.
    const sparse = () => {
      const all = Array.from({ length: 300_000 }, (_, i) => ({ i, text: `row ${i}` }));
      return all.filter((_, i) => i % 50 === 0);
    };
    // The control: V8's own first full collection after a burst keeps its pages (some 12 MB free yet held)...
    const first = sparse();
    gc();
    expect(free()).toBeGreaterThan(6 * 1024 * 1024);
    // ...while one compacting collection after another burst gives back both bursts' pages.
    const second = sparse();
    collect!();
    expect(free()).toBeLessThan(2 * 1024 * 1024);
    expect(first.length + second.length).toBe(12_000);
  });
});
