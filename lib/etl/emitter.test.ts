import { describe, expect, it } from "vitest";
import { createEventEmitter, EventRefusedError, formatEvent } from "./emitter.ts";
import { EtlEventSchema } from "./events.ts";

describe("createEventEmitter", () => {
  it("writes one contract line per event, v and ts first", () => {
    const lines: string[] = [];
    const etl = createEventEmitter({ pipeline: "orders", runId: "r1", clock: () => Date.UTC(2026, 10, 23, 10), write: (l) => lines.push(l) });
    etl.started({ version: "2.0" });
    etl.fileProcessed({ file: "a.csv", records: 120, duration_ms: 11890 });
    etl.fileFailed({ file: "b.csv", error_type: "disk_full", records: 7, duration_ms: 900, message: "No space" });
    expect(lines).toEqual([
      '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"etl_started","pipeline":"orders","run_id":"r1","version":"2.0"}\n',
      '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"file_processed","pipeline":"orders","run_id":"r1","file":"a.csv","records":120,"duration_ms":11890}\n',
      '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"error","event":"file_failed","pipeline":"orders","run_id":"r1","file":"b.csv","error_type":"disk_full","records":7,"duration_ms":900,"message":"No space"}\n',
    ]);
    for (const line of lines) expect(EtlEventSchema.safeParse(JSON.parse(line)).success).toBe(true);
  });

  it("ends a run with etl_finished, at error level when it failed", () => {
    const lines: string[] = [];
    const etl = createEventEmitter({ pipeline: "nightly", runId: "r2", clock: () => Date.UTC(2026, 10, 23, 2), write: (l) => lines.push(l) });
    etl.finished({ status: "success", records: 35, duration_ms: 180_500 });
    etl.finished({ status: "failed", message: "source unreachable" });
    expect(lines).toEqual([
      '{"v":1,"ts":"2026-11-23T02:00:00.000Z","level":"info","event":"etl_finished","pipeline":"nightly","run_id":"r2","status":"success","records":35,"duration_ms":180500}\n',
      '{"v":1,"ts":"2026-11-23T02:00:00.000Z","level":"error","event":"etl_finished","pipeline":"nightly","run_id":"r2","status":"failed","message":"source unreachable"}\n',
    ]);
    expect(() => etl.finished({ status: "done" as "success" })).toThrow();
  });

  it("refuses to write an event that breaks the contract", () => {
    const lines: string[] = [];
    const etl = createEventEmitter({ pipeline: "orders", write: (l) => lines.push(l) });
    expect(() => etl.fileProcessed({ file: "a.csv", records: -5, duration_ms: 1 })).toThrow(
      new EventRefusedError("file_processed", ["records: Too small: expected number to be >=0"]),
    );
    let refused: unknown;
    try {
      etl.fileFailed({ file: "b.csv", error_type: "Disk Full", records: 1.5, duration_ms: 1, message: "x" });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(EventRefusedError);
    expect((refused as EventRefusedError).message).toBe(
      "refused a file_failed event that would break the log contract: " +
        "error_type: error_type must be snake_case, at most 63 characters; records: Invalid input: expected int, received number",
    );
    expect((refused as EventRefusedError).problems).toHaveLength(2);
    expect(lines).toEqual([]);
  });

  it("refuses an invalid pipeline name at the first event", () => {
    const etl = createEventEmitter({ pipeline: "Bad Name", write: () => {} });
    expect(() => etl.heartbeat()).toThrow(/pipeline/);
  });

  it("formats a hand-made event with v first", () => {
    expect(formatEvent({ ts: "2026-11-23T10:00:00.000Z", level: "info", event: "heartbeat", pipeline: "etl" })).toBe(
      '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"heartbeat","pipeline":"etl"}\n',
    );
  });
});
