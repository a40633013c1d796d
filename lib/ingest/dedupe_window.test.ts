import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DedupeWindow } from "./dedupe_window.ts";

describe("DedupeWindow", () => {
  it("remembers ids per pipeline for the window, then forgets them", () => {
    const window = new DedupeWindow({ windowMs: 1000, maxIds: 10 });
    window.remember("orders", "a", 0);
    expect(window.has("orders", "a", 999)).toBe(true);
    expect(window.has("billing", "a", 999)).toBe(false);
    expect(window.has("orders", "a", 1000)).toBe(false);
    expect(window.size).toBe(0);
  });

  it("never holds more than maxIds, forgetting the oldest first", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 200 }), fc.integer({ min: 1, max: 20 }), (ids, maxIds) => {
        const window = new DedupeWindow({ windowMs: 1e9, maxIds });
        ids.forEach((id, i) => window.remember("p", id, i));
        expect(window.size).toBe(Math.min(maxIds, new Set(ids).size));
        if (ids.length > 0) expect(window.has("p", ids.at(-1)!, ids.length)).toBe(true);
      }),
    );
  });
});
