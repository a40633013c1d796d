import { describe, expect, it } from "vitest";
import { createEventEmitter } from "../../lib/etl/emitter.ts";
import { runJob } from "./run.ts";

describe("runJob", () => {
  it("starts the run, finishes it with its status, returns the job's value, flushes after a return and after a throw", async () => {
    const lines: string[] = [];
    let flushes = 0;
    const sink = { write: (line: string) => lines.push(line), flush: async () => void (flushes += 1) };
    const etl = createEventEmitter({ pipeline: "orders", write: sink.write, clock: () => 0 });
    expect(await runJob(etl, sink, (e) => (e.fileProcessed({ file: "a", records: 1, duration_ms: 1 }), 42), { version: "1" })).toBe(42);
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(["etl_started", "file_processed", "etl_finished"]);
    expect(JSON.parse(lines[0]!).version).toBe("1");
    expect(JSON.parse(lines[2]!)).toMatchObject({ event: "etl_finished", status: "success", level: "info" });
    await expect(runJob(etl, sink, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ event: "etl_finished", status: "failed", level: "error", message: "boom" });
    expect(flushes).toBe(2);
  });
});
