import { describe, expect, it } from "vitest";
import { catalogEntry, parseCatalog } from "./catalog.ts";

describe("parseCatalog", () => {
  it("applies the defaults: batch with a schedule, service without, UTC", () => {
    const result = parseCatalog(`
pipelines:
  nightly:
    schedule: "0 2 * * *"
    max_run_duration: 2h
    min_records: 1000
    labels: { team: data, tier: 1 }
  hourly:
    every: 1h
    grace: 10m
    timezone_free: true
  orders:
`.replace("    timezone_free: true\n", ""));
    expect(result).toEqual({
      ok: true,
      catalog: {
        pipelines: {
          nightly: {
            kind: "batch", schedule: "0 2 * * *", timezone: "UTC", cron: { nextAfter: expect.any(Function) }, everyMs: null, graceMs: null,
            maxRunDurationMs: 7_200_000, minRecords: 1000, labels: { team: "data", tier: "1" },
          },
          hourly: { kind: "batch", schedule: null, timezone: "UTC", cron: null, everyMs: 3_600_000, graceMs: 600_000, maxRunDurationMs: null, minRecords: null, labels: {} },
          orders: { kind: "service", schedule: null, timezone: "UTC", cron: null, everyMs: null, graceMs: null, maxRunDurationMs: null, minRecords: null, labels: {} },
        },
      },
    });
  });

  it("reads JSON too", () => {
    const result = parseCatalog('{"pipelines": {"nightly": {"schedule": "30 1 * * 1-5", "timezone": "Europe/Paris"}}}');
    expect(result.ok && result.catalog.pipelines.nightly).toMatchObject({ schedule: "30 1 * * 1-5", timezone: "Europe/Paris", kind: "batch" });
  });

  it.each([
    ["pipelines:\n  nightly:\n    every: soon\n", 'pipeline "nightly", field every: "soon" is not a duration like 30s, 15m, 1h or 1d'],
    ["pipelines:\n  nightly:\n    schedule: '0 0 2 * * *'\n", /^pipeline "nightly", field schedule: is not a 5-field cron expression/],
    ["pipelines:\n  nightly:\n    schedule: '61 * * * *'\n", /^pipeline "nightly", field schedule: is not a 5-field cron expression/],
    ["pipelines:\n  nightly:\n    schedule: '0 2 * * *'\n    timezone: Mars/Base\n", 'pipeline "nightly", field timezone: is not an IANA time zone such as UTC or Europe/Paris'],
    ["pipelines:\n  nightly:\n    schedule: '0 2 * * *'\n    every: 1d\n", 'pipeline "nightly", field every: give either schedule or every, not both'],
    ["pipelines:\n  nightly:\n    shedule: '0 2 * * *'\n", /^pipeline "nightly": unknown field shedule/],
    ["pipelines:\n  nightly:\n    min_records: -1\n", /^pipeline "nightly", field min_records: /],
    ["pipelines:\n  nightly:\n    kind: cron\n", /^pipeline "nightly", field kind: /],
    ["pipelines:\n  nightly:\n    labels: { pipeline: x }\n", /^pipeline "nightly", field labels.pipeline: /],
    ["pipelines:\n  Bad Name: {}\n", /^pipeline "Bad Name": /],
    ["pipelines: [1]\n", /^pipelines: /],
    ["pipelines:\n  a: [\n", /^not YAML/],
  ])("names the pipeline and the field: %s", (text, message) => {
    const result = parseCatalog(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toEqual(typeof message === "string" ? message : expect.stringMatching(message));
  });

  it("looks up own entries only", () => {
    const result = parseCatalog("pipelines: {}\n");
    expect(result.ok && catalogEntry(result.catalog, "constructor")).toBeUndefined();
  });
});

describe("the example catalog", () => {
  it("is valid", async () => {
    const { readFileSync } = await import("node:fs");
    const result = parseCatalog(readFileSync("deploy/pipelines.example.yml", "utf8"));
    expect(result.ok ? Object.keys(result.catalog.pipelines) : result.problems).toEqual(["etl", "batch_orders"]);
  });
});
