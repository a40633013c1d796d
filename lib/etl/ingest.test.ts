import { describe, expect, it } from "vitest";
import { decodeLine, ingestLine } from "./ingest.ts";
import { createIngestState } from "./state.ts";

const good = '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"file_processed","pipeline":"etl","file":"a","records":5,"duration_ms":10}';

describe("ingestLine", () => {
  it("counts each line by result and folds only valid ones", () => {
    const state = createIngestState();
    expect(ingestLine(state, good).result).toBe("parsed");
    expect(ingestLine(state, "{not json").result).toBe("malformed");
    expect(ingestLine(state, '{"event":"file_processed"}').result).toBe("rejected");
    expect(ingestLine(state, null).result).toBe("too_long");
    expect(ingestLine(state, "   ").result).toBe("blank");
    expect(state.lines).toEqual({ parsed: 1, malformed: 1, rejected: 1, too_long: 1 });
    expect(state.pipelines.etl!.recordsTotal).toBe(5);
  });

  it("says which field breaks the contract", () => {
    const outcome = decodeLine(good.replace('"records":5', '"records":-5'));
    expect(outcome).toEqual({ result: "rejected", problem: expect.stringMatching(/^breaks the log contract: records: /) });
  });

  it("never throws, whatever the line", () => {
    const state = createIngestState();
    for (const line of ["null", "[]", "42", '"x"', '{"__proto__":{"x":1}}', "\u0000", "{".repeat(10_000)]) {
      expect(() => ingestLine(state, line)).not.toThrow();
    }
    expect(state.lines.parsed).toBe(0);
  });
});
