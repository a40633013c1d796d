import { describe, expect, it } from "vitest";
import { applyScenario, DEFAULT_PROFILE, PipelinesConfigSchema, ProfileSchema, SCENARIOS } from "./profile.ts";

describe("profiles", () => {
  it("defaults to the reference stack's behaviour", () => {
    expect(DEFAULT_PROFILE).toEqual({
      recordsPerSecond: 10,
      minRecordsPerFile: 50,
      maxRecordsPerFile: 500,
      failuresPerMinute: 1,
      pauseBetweenFilesSeconds: 0.5,
      errorTypes: ["connection_timeout", "schema_validation", "data_corruption", "disk_full", "permission_denied"],
    });
  });

  it("rejects a profile with min above max, unknown keys or bad error types", () => {
    expect(ProfileSchema.safeParse({ minRecordsPerFile: 10, maxRecordsPerFile: 5 }).success).toBe(false);
    expect(ProfileSchema.safeParse({ recordsPerSec: 5 }).success).toBe(false);
    expect(ProfileSchema.safeParse({ errorTypes: ["Bad Type"] }).success).toBe(false);
  });

  it("reads a pipelines file, filling defaults", () => {
    const parsed = PipelinesConfigSchema.parse({ pipelines: { orders: { recordsPerSecond: 20 }, customers: {} } });
    expect(parsed.pipelines.orders!.recordsPerSecond).toBe(20);
    expect(parsed.pipelines.orders!.maxRecordsPerFile).toBe(500);
    expect(parsed.pipelines.customers).toEqual(DEFAULT_PROFILE);
    expect(PipelinesConfigSchema.safeParse({ pipelines: { "Bad Name": {} } }).success).toBe(false);
  });

  it("leaves the profile alone for normal, stall and crash", () => {
    for (const s of ["normal", "stall", "crash"] as const) expect(applyScenario(DEFAULT_PROFILE, s)).toEqual(DEFAULT_PROFILE);
    expect(SCENARIOS).toEqual(["normal", "stall", "crash", "slow", "error-burst", "low-throughput", "late", "hung", "empty", "volume-drop"]);
  });
});
