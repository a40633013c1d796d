import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ingestBlock } from "./ingest_block.ts";
import { mergeState } from "./merge_state.ts";
import { recount } from "../../tools/recount.ts";
import { createIngestState } from "./state.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const encode = (text: string) => new TextEncoder().encode(text);

/** Lines as the logs have them, good and bad, some over a small limit, some not ASCII. */
const lineArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      offset: fc.integer({ min: 0, max: 900_000 }),
      kind: fc.constantFrom("file_processed", "file_failed", "heartbeat", "etl_started"),
      pipeline: fc.constantFrom("etl", "orders"),
      records: fc.integer({ min: 0, max: 500 }),
      duration: fc.oneof(fc.integer({ min: 0, max: 90_000 }), fc.integer({ min: 0, max: 900_000 }).map((n) => n / 10)),
      errorType: fc.constantFrom("disk_full", "network_split", "constructor"),
      message: fc.constantFrom("x", "Prüfsumme falsch", "🙂".repeat(30)),
    }).map(({ offset, kind, pipeline, records, duration, errorType, message }) =>
      JSON.stringify({
        v: 1, ts: new Date(T0 + offset).toISOString(), level: "info", event: kind, pipeline,
        ...(kind === "file_processed" || kind === "file_failed" ? { file: "f.csv", records, duration_ms: duration } : {}),
        ...(kind === "file_failed" ? { error_type: errorType, message } : {}),
      })),
  },
  { weight: 1, arbitrary: fc.constantFrom("not json", "{}", "", "   ", '{"event":"heartbeat"}', "ä".repeat(80)) },
);

describe("ingestBlock", () => {
  it("counts what recount counts, for whole logs and for logs cut at line boundaries and merged", () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), fc.string({ maxLength: 20 }), fc.nat(), (lines, tail, cutAt) => {
        const partial = tail.replace(/\n/g, "");
        const text = lines.map((l) => l + "\n").join("") + partial;
        const expected = recount(text, { maxLineBytes: 150 });

        const whole = ingestBlock(encode(text), 150);
        expect(whole.state).toEqual(expected);
        expect(whole.consumedBytes).toBe(encode(text).length - encode(partial).length);

        const k = cutAt % (lines.length + 1);
        const first = ingestBlock(encode(lines.slice(0, k).map((l) => l + "\n").join("")), 150);
        const second = ingestBlock(encode(lines.slice(k).map((l) => l + "\n").join("") + partial), 150);
        const merged = mergeState(mergeState(createIngestState(), first.state), second.state);
        expect(merged).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("counts a line over the limit as too_long, and its bytes, whether ASCII or not", () => {
    const text = "x".repeat(200) + "\n" + "é".repeat(60) + "\n" + "é".repeat(40) + "\n";
    const { state, badLines } = ingestBlock(encode(text), 100);
    expect(state.lines).toEqual({ parsed: 0, malformed: 1, rejected: 0, too_long: 2 });
    expect(state.bytesRead).toBe(201 + 121 + 81);
    expect(badLines.map((b) => b.result)).toEqual(["too_long", "too_long", "malformed"]);
  });

  it("leaves a partial last line, even one over the limit, unconsumed", () => {
    expect(ingestBlock(encode("{}\n" + "y".repeat(500)), 100)).toMatchObject({ consumedBytes: 3, state: { bytesRead: 3 } });
    expect(ingestBlock(encode("no newline"), 100).consumedBytes).toBe(0);
    expect(ingestBlock(new Uint8Array(0), 100).state).toEqual(createIngestState());
  });

  it("describes the first bad lines only, and counts them all", () => {
    const { state, badLines } = ingestBlock(encode("bad\n".repeat(25)), 100, { maxBadLines: 3 });
    expect(state.lines.malformed).toBe(25);
    expect(badLines).toHaveLength(3);
    expect(badLines[0]).toMatchObject({ result: "malformed", problem: expect.stringContaining("not JSON") });
  });

  it("counts a line dated before the floor as dropped, neither a bad line nor a pipeline", () => {
    const line = (ms: number) =>
      JSON.stringify({ ts: new Date(T0 + ms).toISOString(), level: "info", event: "file_processed", pipeline: "etl", file: "f", records: 1, duration_ms: 3 });
    const { state, badLines, pipelineLines } = ingestBlock(encode([line(0), line(-T0 - 1)].join("\n") + "\n"), 1000);
    // The line dated 1969 is before the floor (year 2000).
    expect(state.dropped.too_old).toBe(1);
    expect(state.lines.parsed).toBe(2);
    expect(badLines).toEqual([]);
    expect(pipelineLines).toEqual(new Map([["etl", 1]]));
  });

  it("reads a block that is a view into a larger buffer", () => {
    const bytes = encode("garbage\n{}\nnot json\n");
    const view = bytes.subarray(8);
    expect(ingestBlock(view, 100).state.lines).toEqual({ parsed: 0, malformed: 1, rejected: 1, too_long: 0 });
  });
});
