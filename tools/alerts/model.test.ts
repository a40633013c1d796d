import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration } from "../../lib/alerts/duration.ts";
import { bucketQuantile, evaluateAlerts, extrapolatedRate, type InputSeries, type SampleValue, type SeriesSet } from "./model.ts";
import { type AlertParams, alertParamsForSpeed, PRODUCTION_ALERT_PARAMS, toYaml } from "../../lib/alerts/rules.ts";
import { simulateScrapes, type SimulatedPipeline } from "./simulated_series.ts";

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const requireRealTools = process.env.CI === "true";

const P = PRODUCTION_ALERT_PARAMS;
const fired = (params: AlertParams, set: SeriesSet, horizon: number) =>
  evaluateAlerts(params, set, horizon)
    .filter((e) => e.firingAt !== null)
    .map((e) => `${e.alert}/${e.labels.pipeline ?? e.labels.job}`);

describe("extrapolatedRate (Prometheus 2.x)", () => {
  it("is the plain difference when the samples span the closed window", () => {
    const points: Array<[number, number]> = [0, 15, 30, 45, 60].map((t, i) => [t, i * 10]);
    expect(extrapolatedRate(points, 60, 60, false)).toBe(40);
    expect(extrapolatedRate(points, 60, 60, true)).toBeCloseTo(40 / 60, 15);
  });

  it("adds counter resets and needs two samples", () => {
    expect(extrapolatedRate([[0, 5], [15, 8], [30, 2], [45, 4]], 45, 45, false)).toBe(4 - 5 + 8);
    expect(extrapolatedRate([[0, 5]], 0, 60, false)).toBeUndefined();
  });

  it("extrapolates to the window's edges, but not below zero", () => {
    // Samples at 30..60 of a 60 s window: 15 s to the start (< 1.1 × 15), none to the end.
    expect(extrapolatedRate([[30, 10], [45, 20], [60, 30]], 60, 60, false)).toBeCloseTo(20 * (45 / 30), 12);
    // From 0 it would have to go below zero: extrapolate only to where it was 0.
    expect(extrapolatedRate([[30, 0], [45, 10], [60, 20]], 60, 60, false)).toBe(20);
  });
});

describe("bucketQuantile (Prometheus 2.x histogram_quantile)", () => {
  it("interpolates inside the bucket the rank falls in", () => {
    const b: Array<[number, number]> = [[10, 50], [20, 90], [60, 100], [Infinity, 100]];
    expect(bucketQuantile(0.5, b)).toBe(10);
    expect(bucketQuantile(0.7, b)).toBe(15);
    expect(bucketQuantile(0.95, b)).toBe(40);
  });

  it("returns the highest finite bound for the +Inf bucket, NaN without observations", () => {
    expect(bucketQuantile(0.99, [[10, 1], [Infinity, 10]])).toBe(10);
    expect(bucketQuantile(0.5, [[10, 0], [Infinity, 0]])).toBeNaN();
    expect(bucketQuantile(0.5, [[10, 1]])).toBeNaN();
  });
});

describe.skipIf(!hasPromtool && !requireRealTools)("the model agrees with promtool (needs promtool: apt-get install prometheus)", () => {
  it("on random counters and histograms: rate, increase, histogram_quantile", () => {
    const steps = 40;
    const counter = fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 50 }) }, { weight: 1, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.constant(null) }), {
      minLength: steps,
      maxLength: steps,
    });
    const cases = fc.sample(
      fc.record({
        g: fc.constantFrom(1, 5, 15),
        increments: counter,
        windowSteps: fc.double({ min: 1.5, max: 20, noNaN: true }),
        evalStep: fc.integer({ min: 2, max: steps - 1 }),
        evalOffset: fc.integer({ min: 0, max: 4 }),
        buckets: fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }), { minLength: steps, maxLength: steps }),
        q: fc.constantFrom(0.5, 0.9, 0.95),
      }),
      { numRuns: 150, seed: 42 },
    );
    const bounds = [1, 5, 10, Infinity];
    const groups = cases.map((c, n) => {
      // A counter with resets (-1: back to 0) and missing scrapes (null).
      let total = 0;
      const values: SampleValue[] = c.increments.map((inc) => (inc === null ? null : inc < 0 ? (total = 0) : (total += inc)));
      const cumulative = [0, 0, 0, 0];
      const buckets = bounds.map((le, b) => ({
        name: "h_bucket",
        labels: { case: String(n), le: le === Infinity ? "+Inf" : String(le) },
        values: [] as SampleValue[],
        b,
      }));
      for (const row of c.buckets) {
        let running = 0;
        row.forEach((inc, b) => {
          running += inc;
          cumulative[b]! += running;
        });
        for (const s of buckets) s.values.push(cumulative[s.b]!);
      }
      const set: SeriesSet = { intervalSeconds: c.g, series: [{ name: "c", labels: { case: String(n) }, values }, ...buckets] };
      const w = Math.round(c.windowSteps * c.g * 1000) / 1000;
      const t = c.evalStep * c.g + (c.evalOffset * c.g) / 5;
      const range = (s: InputSeries) =>
        s.values.flatMap((v, i) => (typeof v === "number" && i * c.g >= t - w - 1e-9 && i * c.g <= t + 1e-9 ? [[i * c.g, v] as [number, number]] : []));
      const rate = extrapolatedRate(range(set.series[0]!), t, w, true);
      const increase = extrapolatedRate(range(set.series[0]!), t, w, false);
      const rates = buckets.map((s) => extrapolatedRate(range(s), t, w, true));
      const quantile = rates.every((r) => r !== undefined) ? bucketQuantile(c.q, rates.map((r, b) => [bounds[b]!, r!])) : undefined;
      const sample = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? [] : [{ labels: `{case="${n}"}`, value: v }]);
      const at = formatDuration(t);
      const sel = `{case="${n}"}[${formatDuration(w)}]`;
      return {
        interval: formatDuration(c.g),
        input_series: set.series.map((s) => ({
          series: `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`,
          values: s.values.map((v) => (v === null ? "_" : String(v))).join(" "),
        })),
        promql_expr_test: [
          { expr: `rate(c${sel})`, eval_time: at, exp_samples: sample(rate) },
          { expr: `increase(c${sel})`, eval_time: at, exp_samples: sample(increase) },
          ...(quantile === undefined || Number.isNaN(quantile)
            ? []
            : [{ expr: `histogram_quantile(${c.q}, rate(h_bucket${sel}))`, eval_time: at, exp_samples: sample(quantile) }]),
        ],
      };
    });
    const dir = mkdtempSync(join(tmpdir(), "etl-model-"));
    try {
      writeFileSync(join(dir, "empty.yml"), "groups: []\n");
      // promtool loads input samples only up to the evaluation step at or
      // before an eval_time, so the step must divide every eval_time.
      writeFileSync(join(dir, "model.test.yml"), toYaml({ rule_files: ["empty.yml"], evaluation_interval: "200ms", tests: groups }));
      const run = spawnSync("promtool", ["test", "rules", join(dir, "model.test.yml")], { encoding: "utf8" });
      expect(run.stdout + run.stderr).toContain("SUCCESS");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("evaluateAlerts", () => {
  const up = (values: SampleValue[]): InputSeries[] => [
    { name: "up", labels: { job: "etl-metrics", instance: "a" }, values },
    { name: "up", labels: { job: "etl-simulator", instance: "b" }, values: values.map(() => 1) },
  ];

  it("fires at activeAt + for, not an evaluation before", () => {
    const set: SeriesSet = { intervalSeconds: 15, series: up([1, 1, 0, 0, 0, 0, 0, 0, 0]) };
    const [episode] = evaluateAlerts(P, set, 120);
    expect(episode).toMatchObject({ alert: "EtlMetricsEndpointDown", activeAt: 30, firingAt: 90, endedAt: null });
  });

  it("resets `for` when the condition lapses for one evaluation", () => {
    const set: SeriesSet = { intervalSeconds: 15, series: up([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]) };
    const episodes = evaluateAlerts(P, set, 135);
    expect(episodes.map((e) => [e.activeAt, e.firingAt, e.endedAt])).toEqual([
      [0, null, 60],
      [75, 135, null],
    ]);
  });

  it("sees a vanished target through absent() once its series is stale", () => {
    const set: SeriesSet = { intervalSeconds: 15, series: up([1, 1, "stale", null, null, null, null, null]) };
    expect(evaluateAlerts(P, set, 105)[0]).toMatchObject({ labels: { job: "etl-metrics" }, activeAt: 30, firingAt: 90 });
  });
});

/** orders runs `scenario` from 10 profile minutes on, customers the default profile. */
async function scenarioRun(params: AlertParams, scenario: SimulatedPipeline["scenario"] | "crash", seed: number) {
  const s = params.speed;
  const switchAt = 600 / s;
  const horizon = Math.max(3600 / s, switchAt + 300);
  const set = await simulateScrapes({
    pipelines: [
      { name: "orders", seed, ...(scenario === "crash" ? {} : { scenario, switchAtSeconds: switchAt }) },
      { name: "customers", seed: seed + 1 },
    ],
    durationSeconds: horizon,
    scrapeIntervalSeconds: params.scrapeIntervalSeconds,
    speed: s,
    ...(scenario === "crash" ? { crashAtSeconds: switchAt } : {}),
  });
  return new Set(fired(params, set, horizon));
}

describe("the thresholds against the simulator", () => {
  it("fire nothing in three days of normal running (two pipelines, model of Prometheus)", async () => {
    for (const seed of [101, 202, 303]) {
      const set = await simulateScrapes({
        pipelines: [{ name: "orders", seed }, { name: "customers", seed: seed + 1 }],
        durationSeconds: 86_400,
        scrapeIntervalSeconds: 15,
      });
      expect(fired(P, set, 86_400), `seed ${seed}`).toEqual([]);
    }
  }, 60_000);

  // What each scenario is meant to provoke (README), in production and at
  // the live test's compression: the scaled rules must behave the same.
  const variants: Array<[string, AlertParams]> = [
    ["production", P],
    ["speed 60, scrape 1 s", alertParamsForSpeed(60, { scrapeIntervalSeconds: 1 })],
    ["speed 10, scrape 5 s", alertParamsForSpeed(10, { scrapeIntervalSeconds: 5 })],
  ];
  for (const [name, params] of variants) {
    describe(name, () => {
      it.each([1, 2, 3])("stall (seed %s): health, no success, low throughput for orders only", async (seed) => {
        const got = await scenarioRun(params, "stall", seed);
        expect(got).toContain("EtlHealthCheckFailed/orders");
        expect(got).toContain("EtlNoSuccessIn10Minutes/orders");
        if (params.speed === 1) expect(got).toContain("EtlLowThroughput/orders");
        for (const a of got) expect(a).toMatch(/\/orders$/);
      });

      it.each([1, 2, 3])("crash (seed %s): the simulator's endpoint down, then both pipelines", async (seed) => {
        const got = await scenarioRun(params, "crash", seed);
        expect(got).toContain("EtlMetricsEndpointDown/etl-simulator");
        expect(got).toContain("EtlHealthCheckFailed/orders");
        expect(got).toContain("EtlHealthCheckFailed/customers");
      });

      it.each([1, 2, 3])("slow (seed %s): slow processing, never low throughput", async (seed) => {
        const got = await scenarioRun(params, "slow", seed);
        expect(got).toContain("EtlSlowProcessing/orders");
        expect(got).not.toContain("EtlLowThroughput/orders");
        for (const a of got) expect(a).toMatch(/\/orders$/);
      });

      it.each([1, 2, 3])("error-burst (seed %s): high failure rate", async (seed) => {
        const got = await scenarioRun(params, "error-burst", seed);
        expect(got).toContain("EtlHighFailureRate/orders");
        expect(got).not.toContain("EtlSlowProcessing/orders");
        for (const a of got) expect(a).toMatch(/\/orders$/);
      });

      it.each([1, 2, 3])("low-throughput (seed %s): low throughput and nothing else", async (seed) => {
        expect([...(await scenarioRun(params, "low-throughput", seed))]).toEqual(["EtlLowThroughput/orders"]);
      });
    });
  }
});
