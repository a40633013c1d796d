import { describe, expect, it } from "vitest";
import { EtlEventSchema, KNOWN_ERROR_TYPES } from "./events.ts";

const base = { ts: "2026-11-23T10:00:00.000Z", level: "info", pipeline: "orders" } as const;

describe("EtlEventSchema", () => {
  it("accepts each event kind of the contract", () => {
    const lines = [
      { ...base, event: "etl_started", version: "1.0" },
      { ...base, event: "heartbeat", state: "idle" },
      { ...base, event: "file_started", file: "a.csv" },
      { ...base, event: "file_processed", file: "a.csv", records: 10, duration_ms: 1234.5, bytes: 99 },
      { ...base, level: "error", event: "file_failed", file: "a.csv", error_type: "disk_full", records: 3, duration_ms: 10, message: "full" },
      { ...base, event: "etl_finished", status: "success" },
      { ...base, event: "etl_finished", status: "cancelled", records: 0, duration_ms: 12.5, message: "stopped by the scheduler" },
    ];
    for (const line of lines) expect(EtlEventSchema.safeParse(line).success, JSON.stringify(line)).toBe(true);
  });

  it("reads a line without v as version 1 and rejects other versions", () => {
    expect(EtlEventSchema.safeParse({ ...base, event: "heartbeat" }).success).toBe(true);
    expect(EtlEventSchema.safeParse({ ...base, v: 1, event: "heartbeat" }).success).toBe(true);
    expect(EtlEventSchema.safeParse({ ...base, v: 2, event: "heartbeat" }).success).toBe(false);
  });

  it.each([
    ["timestamp without milliseconds", { ...base, ts: "2026-11-23T10:00:00Z", event: "heartbeat" }],
    ["timestamp without offset", { ...base, ts: "2026-11-23T10:00:00.000", event: "heartbeat" }],
    ["unknown event", { ...base, event: "file_exploded" }],
    ["negative records", { ...base, event: "file_processed", file: "a", records: -1, duration_ms: 1 }],
    ["fractional records", { ...base, event: "file_processed", file: "a", records: 1.5, duration_ms: 1 }],
    ["records as text", { ...base, event: "file_processed", file: "a", records: "10", duration_ms: 1 }],
    ["pipeline with spaces", { ...base, pipeline: "my pipeline", event: "heartbeat" }],
    ["error_type with capitals", { ...base, event: "file_failed", file: "a", error_type: "DiskFull", records: 0, duration_ms: 1, message: "" }],
    ["finish without status", { ...base, event: "etl_finished" }],
    ["finish with an unknown status", { ...base, event: "etl_finished", status: "done" }],
    ["finish with fractional records", { ...base, event: "etl_finished", status: "success", records: 0.5 }],
    ["failure without message", { ...base, event: "file_failed", file: "a", error_type: "disk_full", records: 0, duration_ms: 1 }],
  ])("rejects %s", (_name, line) => {
    expect(EtlEventSchema.safeParse(line).success).toBe(false);
  });

  it("knows the five error categories of the reference stack", () => {
    expect(KNOWN_ERROR_TYPES).toEqual([
      "connection_timeout",
      "schema_validation",
      "data_corruption",
      "disk_full",
      "permission_denied",
    ]);
  });
});
