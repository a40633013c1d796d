import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.ts";

describe("Prometheus durations", () => {
  it("formats seconds with compound units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(15)).toBe("15s");
    expect(formatDuration(300)).toBe("5m");
    expect(formatDuration(90)).toBe("1m30s");
    expect(formatDuration(2.5)).toBe("2s500ms");
    expect(formatDuration(86_400 + 3600)).toBe("1d1h");
    expect(() => formatDuration(-1)).toThrow(RangeError);
  });

  it("parses what Prometheus accepts and refuses the rest", () => {
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("1w")).toBe(604_800);
    for (const bad of ["", "5", "1.5m", "m", "5m ", "1x"]) expect(() => parseDuration(bad)).toThrow(SyntaxError);
  });

  it("round-trips whole milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms / 1000)) * 1000).toBeCloseTo(ms, 6);
      }),
    );
  });
});
