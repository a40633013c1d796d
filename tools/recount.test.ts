import { describe, expect, it } from "vitest";
import { ingestLine } from "../lib/etl/ingest.ts";
import { recount } from "./recount.ts";
import { createIngestState } from "../lib/etl/state.ts";

const VALID = '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"file_processed","pipeline":"orders","file":"é.csv","records":7,"duration_ms":700}';

describe("recount", () => {
  it("ingests every complete line, in order, and counts their bytes", () => {
    const text = `${VALID}\nnope\n\n{"event":"heartbeat"}\n`;
    const expected = createIngestState();
    for (const line of [VALID, "nope", "", '{"event":"heartbeat"}']) ingestLine(expected, line);
    expected.bytesRead = Buffer.byteLength(text);
    expect(recount(text, { maxLineBytes: 4096 })).toEqual(expected);
  });

  it("ignores an unterminated last line, in every segment", () => {
    const state = recount([`${VALID}\n${VALID.slice(0, 20)}`, `${VALID.slice(20)}\n`], { maxLineBytes: 4096 });
    expect(state.lines).toEqual({ parsed: 1, malformed: 1, rejected: 0, too_long: 0 });
    expect(state.bytesRead).toBe(Buffer.byteLength(VALID) + 1 + Buffer.byteLength(VALID.slice(20)) + 1);
  });

  it("measures the limit in UTF-8 bytes, like the line splitter", () => {
    const state = recount(["é".repeat(3) + "\n", "é".repeat(2) + "\n"], { maxLineBytes: 5 });
    expect(state.lines).toEqual({ parsed: 0, malformed: 1, rejected: 0, too_long: 1 });
  });

  it("is the empty state for no text", () => {
    expect(recount([], { maxLineBytes: 10 })).toEqual(createIngestState());
    expect(recount("partial", { maxLineBytes: 10 })).toEqual(createIngestState());
  });
});
