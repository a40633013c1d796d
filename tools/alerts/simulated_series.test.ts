import { describe, expect, it } from "vitest";
import type { InputSeries, SeriesSet } from "./model.ts";
import { ruleInputMetrics, simulateScrapes } from "./simulated_series.ts";

const find = (set: SeriesSet, name: string, labels: Record<string, string>): InputSeries =>
  set.series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))!;
const numbers = (s: InputSeries) => s.values.filter((v): v is number => typeof v === "number");

describe("simulateScrapes", () => {
  it("gives exactly the series the rules read, for the exporter's job, and `up` of both jobs", async () => {
    const set = await simulateScrapes({ pipelines: [{ name: "orders", seed: 1 }], durationSeconds: 600, scrapeIntervalSeconds: 15 });
    const alwaysOn = [
      "etl_failures_total",
      "etl_file_processing_duration_seconds_bucket",
      "etl_health_status",
      "etl_last_success_timestamp_seconds",
      "etl_records_total",
    ];
    // The run alerts' inputs a service (one run, never finished, no catalog) has: the rest appear with batch runs.
    const runs = ["etl_last_run_start_timestamp_seconds", "etl_pipeline_between_runs", "etl_pipeline_info", "etl_runs_in_progress"];
    const batchOnly = [
      "etl_deadline_timestamp_seconds",
      "etl_last_run_status",
      "etl_last_successful_run_records",
      "etl_pipeline_max_run_duration_seconds",
      "etl_pipeline_min_records",
      "etl_schedule_interval_seconds",
    ];
    expect(ruleInputMetrics().sort()).toEqual([...alwaysOn, ...runs, ...batchOnly].sort());
    expect(new Set(set.series.map((s) => s.name))).toEqual(new Set([...alwaysOn, ...runs, "up"]));
    expect(find(set, "etl_pipeline_between_runs", { pipeline: "orders" }).values.every((v) => v === 0)).toBe(true);
    for (const s of set.series) {
      expect(s.values).toHaveLength(41);
      if (s.name !== "up") expect(s.labels).toMatchObject({ job: "etl-metrics", pipeline: "orders" });
    }
    expect(set.series.filter((s) => s.name === "etl_file_processing_duration_seconds_bucket")).toHaveLength(14);
  });

  it("runs the default profile: ~10 records/s, ~1 failure a minute, healthy", async () => {
    const set = await simulateScrapes({ pipelines: [{ name: "orders", seed: 3 }], durationSeconds: 7200, scrapeIntervalSeconds: 15 });
    const records = numbers(find(set, "etl_records_total", { pipeline: "orders" }));
    const failures = numbers(find(set, "etl_failures_total", { pipeline: "orders" }));
    expect(records.at(-1)! / 7200).toBeGreaterThan(9);
    expect(records.at(-1)! / 7200).toBeLessThan(10.5);
    expect(failures.at(-1)! / 120).toBeGreaterThan(0.75);
    expect(failures.at(-1)! / 120).toBeLessThan(1.25);
    for (let i = 1; i < records.length; i++) expect(records[i]).toBeGreaterThanOrEqual(records[i - 1]!);
  });

  it("stops a stalled pipeline's events while the exporter keeps serving it", async () => {
    const set = await simulateScrapes({
      pipelines: [{ name: "orders", seed: 1, scenario: "stall", switchAtSeconds: 300 }, { name: "customers", seed: 2 }],
      durationSeconds: 900,
      scrapeIntervalSeconds: 15,
    });
    const records = find(set, "etl_records_total", { pipeline: "orders" }).values;
    expect(new Set(records.slice(21))).toEqual(new Set([records[20]]));
    const health = find(set, "etl_health_status", { pipeline: "orders" }).values;
    expect(health[22]).toBe(1); // 330 s: the last heartbeat (295 s) is 35 s old
    expect(health[25]).toBe(0); // 375 s: silent for more than 60 s
    expect(find(set, "etl_health_status", { pipeline: "customers" }).values.at(-1)).toBe(1);
  });

  it("turns the simulator's `up` to 0 when it crashes, and stops every pipeline", async () => {
    const set = await simulateScrapes({
      pipelines: [{ name: "orders", seed: 1 }, { name: "customers", seed: 2 }],
      durationSeconds: 600,
      scrapeIntervalSeconds: 15,
      crashAtSeconds: 300,
    });
    expect(find(set, "up", { job: "etl-simulator" }).values.slice(19, 21)).toEqual([1, 0]);
    expect(new Set(find(set, "up", { job: "etl-metrics" }).values)).toEqual(new Set([1]));
    for (const pipeline of ["orders", "customers"]) {
      const records = find(set, "etl_records_total", { pipeline }).values;
      expect(new Set(records.slice(20))).toEqual(new Set([records[20]]));
    }
  });

  it("compresses time with the speed: a slow scenario's files still finish", async () => {
    const set = await simulateScrapes({
      pipelines: [{ name: "orders", seed: 5, scenario: "slow", switchAtSeconds: 0 }],
      durationSeconds: 120,
      scrapeIntervalSeconds: 1,
      speed: 60,
    });
    const records = numbers(find(set, "etl_records_total", { pipeline: "orders" }));
    expect(records.at(-1)! / 120).toBeGreaterThan(60); // ~2 records/s × 60
    expect(records.at(-1)! / 120).toBeLessThan(200);
  });
});
