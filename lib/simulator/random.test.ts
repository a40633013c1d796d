import { describe, expect, it } from "vitest";
import { createRandom } from "./random.ts";

describe("createRandom", () => {
  it("repeats a sequence for a seed", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    for (let i = 0; i < 100; i++) expect(a.next()).toBe(b.next());
  });

  it("draws whole numbers within both bounds, reaching each", () => {
    const r = createRandom(1);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const n = r.int(3, 7);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(7);
      seen.add(n);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it("has the right mean for exponential draws", () => {
    const r = createRandom(2);
    let sum = 0;
    for (let i = 0; i < 50_000; i++) sum += r.exponential(0.5);
    expect(sum / 50_000).toBeCloseTo(2, 1);
    expect(r.exponential(0)).toBe(Infinity);
  });
});
