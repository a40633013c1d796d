import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line_splitter.ts";

const enc = new TextEncoder();

function splitAll(chunks: Uint8Array[], max: number) {
  const s = new LineSplitter(max);
  const lines: (string | null)[] = [];
  for (const c of chunks) s.push(c, (l) => lines.push(l));
  return { lines, pending: s.pendingBytes };
}

describe("LineSplitter", () => {
  it("gives the same lines however the bytes are chunked (UTF-8 split included)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme", maxLength: 30 }).map((s) => s.replace(/\n/g, "")), { maxLength: 30 }),
        fc.string({ maxLength: 10 }).map((s) => s.replace(/\n/g, "")),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
        (lines, tail, cuts) => {
          const bytes = enc.encode(lines.map((l) => l + "\n").join("") + tail);
          const chunks: Uint8Array[] = [];
          for (let i = 0, k = 0; i < bytes.length; k++) {
            const n = cuts[k % cuts.length]!;
            chunks.push(bytes.subarray(i, i + n));
            i += n;
          }
          const result = splitAll(chunks, 1 << 20);
          expect(result.lines).toEqual(lines);
          expect(result.pending).toBe(enc.encode(tail).length);
        },
      ),
    );
  });

  it("holds a partial line back until its newline arrives", () => {
    const s = new LineSplitter(100);
    const lines: (string | null)[] = [];
    s.push(enc.encode('{"a":1}\n{"b"'), (l) => lines.push(l));
    expect(lines).toEqual(['{"a":1}']);
    expect(s.pendingBytes).toBe(4);
    s.push(enc.encode(":2}\n"), (l) => lines.push(l));
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.pendingBytes).toBe(0);
  });

  it("reports an over-long line once, as null, without buffering it", () => {
    const s = new LineSplitter(10);
    const lines: (string | null)[] = [];
    s.push(enc.encode("short\n" + "x".repeat(8)), (l) => lines.push(l));
    s.push(enc.encode("x".repeat(1000)), (l) => lines.push(l));
    expect(s.pendingBytes).toBe(1008);
    s.push(enc.encode("xx\nok\n"), (l) => lines.push(l));
    expect(lines).toEqual(["short", null, "ok"]);
    expect(s.pendingBytes).toBe(0);
  });

  it("treats a line within one chunk over the limit as too long, counting bytes not characters", () => {
    expect(splitAll([enc.encode("ééééé\nabc\n")], 8).lines).toEqual([null, "abc"]);
    expect(splitAll([enc.encode("éééé\n")], 8).lines).toEqual(["éééé"]);
  });

  it("forgets a partial line on reset", () => {
    const s = new LineSplitter(100);
    const lines: (string | null)[] = [];
    s.push(enc.encode("partial"), (l) => lines.push(l));
    s.reset();
    s.push(enc.encode("new\n"), (l) => lines.push(l));
    expect(lines).toEqual(["new"]);
  });

  it("rejects a non-positive limit", () => {
    expect(() => new LineSplitter(0)).toThrow(RangeError);
  });
});
