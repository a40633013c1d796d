/**
 * The promtool unit tests of the alert rules, generated from the same
 * source as the rules (`prometheus/rules/etl-alerts.test.yml`, written by
 * `commands/build/rules.ts`; a test fails when it is stale).
 *
 * Three kinds of test group, each for two pipelines (`orders`, `customers`)
 * or, for the endpoint alert, two jobs:
 * - **boundary**, one or two per alert: hand-designed series where `orders`
 *   meets the condition from some time on and `customers` comes as close
 *   as it can without firing (a dip one evaluation shorter than `for`, a
 *   burst under the threshold, a value on the bucket bound…). The alert
 *   must be silent one evaluation before `activeAt + for` and fire at it.
 * - **scenario**: series made by the real simulator engine, reducer and
 *   metric families; `orders` switches to a scenario after 10 minutes while
 *   `customers` runs normally. The test lists exactly which alerts fire.
 * - **normal**: both pipelines in the default profile for two hours; no
 *   alert may fire.
 *
 * When to expect what comes from {@linkcode evaluateAlerts} (a model of
 * Prometheus 2.x semantics); promtool checks every prediction against the
 * real engine, and the generator refuses a boundary design the model says
 * does not do what its title claims.
 *
 * Inhibition cannot be tested here (promtool knows nothing of
 * Alertmanager); `lib/alerts/alertmanager_config.test.ts` checks that config.
 *
 * @example
 * ```ts
 * import { ruleTestsYaml } from "./rule_tests.ts";
 * const text = await ruleTestsYaml(); // what etl-alerts.test.yml holds
 * ```
 * @module
 */
import { DURATION_BUCKETS_SECONDS } from "../../lib/etl/state.ts";
import type { Scenario } from "../../lib/simulator/profile.ts";
import { formatDuration } from "../../lib/alerts/duration.ts";
import {
  type AlertEpisode,
  evaluateAlerts,
  evaluateExpression,
  firingAt,
  type InputSeries,
  type SampleValue,
  type SeriesSet,
} from "./model.ts";
import {
  ALERT_NAMES,
  type AlertName,
  type AlertParams,
  alertDefinitions,
  PRODUCTION_ALERT_PARAMS,
  RULES_PATH,
  toYaml,
} from "../../lib/alerts/rules.ts";
import { simulateScrapes } from "./simulated_series.ts";
import { renderTemplate } from "../../lib/alerts/template.ts";

/**
 * Where the unit tests are published, relative to the repository root.
 *
 * @example
 * ```ts
 * RULES_TEST_PATH; // "prometheus/rules/etl-alerts.test.yml"
 * ```
 */
export const RULES_TEST_PATH = RULES_PATH.replace(/\.yml$/, ".test.yml");

/** One test group before the expectations are worked out. */
export interface TestPlan {
  name: string;
  kind: "boundary" | "scenario" | "normal";
  set: SeriesSet;
  horizonSeconds: number;
  /** For boundary plans: the alert under test and who must fire / stay quiet. */
  boundary?: { alert: AlertName; fires: Record<string, string>; quiet: Record<string, string> };
}

/** The labels the exporter's series carry besides `pipeline`. */
const EXPORTER_INSTANCE = "etl-metrics:8083";
const SIMULATOR_INSTANCE = "etl-simulator:8000";

const FIRES = "orders";
const QUIET = "customers";

/** Series on a grid of `g` seconds up to `horizon`. */
class Grid {
  readonly steps: number;
  readonly series: InputSeries[] = [];
  constructor(readonly params: AlertParams, readonly horizon: number) {
    this.steps = Math.round(horizon / params.scrapeIntervalSeconds);
  }
  get g(): number {
    return this.params.scrapeIntervalSeconds;
  }
  time(i: number): number {
    return i * this.g;
  }
  /** Adds a series whose value at each step is `f(time)`. */
  add(name: string, labels: Record<string, string>, f: (t: number, i: number) => SampleValue): void {
    const values: SampleValue[] = [];
    for (let i = 0; i <= this.steps; i++) values.push(f(this.time(i), i));
    this.series.push({ name, labels, values });
  }
  /** A counter that grows by `increment(t)` at each step after the first. */
  counter(name: string, labels: Record<string, string>, increment: (t: number, i: number) => number): void {
    let total = 0;
    this.add(name, labels, (t, i) => (i === 0 ? total : (total += increment(t, i))));
  }
  up(exporter: SampleValue = 1, simulator: SampleValue = 1): void {
    this.add("up", { job: this.params.exporterJob, instance: EXPORTER_INSTANCE }, () => exporter);
    this.add("up", { job: this.params.simulatorJob, instance: SIMULATOR_INSTANCE }, () => simulator);
  }
  set(): SeriesSet {
    return { intervalSeconds: this.g, series: this.series };
  }
}

function pipelineLabels(params: AlertParams, pipeline: string): Record<string, string> {
  return { job: params.exporterJob, instance: EXPORTER_INSTANCE, pipeline };
}

/** `seconds` rounded up to a whole number of evaluations. */
function onGrid(params: AlertParams, seconds: number): number {
  const e = params.evaluationIntervalSeconds;
  return Number((Math.ceil(seconds / e - 1e-9) * e).toFixed(6));
}

/**
 * The hand-designed boundary plans for `params`.
 *
 * @example
 * ```ts
 * boundaryPlans(PRODUCTION_ALERT_PARAMS).map((p) => p.name);
 * ```
 */
export function boundaryPlans(params: AlertParams): TestPlan[] {
  const g = params.scrapeIntervalSeconds;
  const e = params.evaluationIntervalSeconds;
  if (Math.abs(e / g - Math.round(e / g)) > 1e-9) throw new Error("the evaluation interval must be a multiple of the scrape interval");
  const longest = Math.max(
    params.highFailureRate.windowSeconds,
    params.lowThroughput.windowSeconds,
    params.slowProcessing.windowSeconds,
    params.noSuccess.thresholdSeconds,
  );
  // Onset late enough that every window is full of samples before it.
  const t0 = onGrid(params, longest + 4 * g);
  const plans: TestPlan[] = [];
  const orders = pipelineLabels(params, FIRES);
  const customers = pipelineLabels(params, QUIET);

  {
    // The simulator's endpoint goes down at t0 and stays down; the
    // exporter's fails one evaluation less than `for`, then recovers.
    const f = params.endpointDown.forSeconds;
    const grid = new Grid(params, t0 + f + 4 * e);
    grid.add("up", { job: params.exporterJob, instance: EXPORTER_INSTANCE }, (t) => (t >= t0 && t < t0 + f ? 0 : 1));
    grid.add("up", { job: params.simulatorJob, instance: SIMULATOR_INSTANCE }, (t) => (t >= t0 ? 0 : 1));
    plans.push({
      name: `EtlMetricsEndpointDown: ${params.simulatorJob} down from ${formatDuration(t0)} fires after ${formatDuration(f)}; ${params.exporterJob} down one evaluation less does not`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: {
        alert: "EtlMetricsEndpointDown",
        fires: { job: params.simulatorJob, instance: SIMULATOR_INSTANCE },
        quiet: { job: params.exporterJob, instance: EXPORTER_INSTANCE },
      },
    });
  }
  {
    // The exporter's target vanishes (its series goes stale): absent() fires.
    const f = params.endpointDown.forSeconds;
    const grid = new Grid(params, t0 + f + 4 * e);
    grid.add("up", { job: params.exporterJob, instance: EXPORTER_INSTANCE }, (t) => (t < t0 ? 1 : t === t0 ? "stale" : null));
    grid.add("up", { job: params.simulatorJob, instance: SIMULATOR_INSTANCE }, () => 1);
    plans.push({
      name: `EtlMetricsEndpointDown: the ${params.exporterJob} target vanishes at ${formatDuration(t0)} (absent) and fires after ${formatDuration(f)}; ${params.simulatorJob} stays up`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: { alert: "EtlMetricsEndpointDown", fires: { job: params.exporterJob }, quiet: { job: params.simulatorJob } },
    });
  }
  {
    const f = params.healthCheckFailed.forSeconds;
    const grid = new Grid(params, t0 + f + 4 * e);
    grid.up();
    grid.add("etl_health_status", orders, (t) => (t >= t0 ? 0 : 1));
    grid.add("etl_health_status", customers, (t) => (t >= t0 && t < t0 + f ? 0 : 1));
    plans.push({
      name: `EtlHealthCheckFailed: ${FIRES} unhealthy from ${formatDuration(t0)} fires after ${formatDuration(f)}; ${QUIET} unhealthy one evaluation less does not`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: { alert: "EtlHealthCheckFailed", fires: orders, quiet: customers },
    });
  }
  {
    // Successes every scrape until t0. orders: none after. customers: the
    // next success is seen exactly `threshold` after the last one, when
    // time() - last = threshold, which is not "more than".
    const threshold = params.noSuccess.thresholdSeconds;
    const grid = new Grid(params, onGrid(params, t0 + threshold + params.noSuccess.forSeconds) + 4 * e);
    grid.up();
    grid.add("etl_last_success_timestamp_seconds", orders, (t) => Math.min(t, t0));
    grid.add("etl_last_success_timestamp_seconds", customers, (t) => (t <= t0 ? t : t <= t0 + threshold ? t0 : t0 + threshold));
    plans.push({
      name: `EtlNoSuccessIn10Minutes: ${FIRES} last succeeds at ${formatDuration(t0)} and fires once more than ${formatDuration(threshold)} have passed; ${QUIET} succeeds again exactly at the threshold`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: { alert: "EtlNoSuccessIn10Minutes", fires: orders, quiet: customers },
    });
  }
  {
    // Normal-like failures (a quarter of the threshold per window), then
    // a burst at t0: orders above the threshold, customers well under it
    // (also under Prometheus 3's ×w/(w-g) extrapolation).
    const { windowSeconds: w, threshold, forSeconds: f } = params.highFailureRate;
    const every = Math.max(g, Math.round(w / Math.max(1, Math.floor(threshold / 4)) / g) * g);
    const background = (t: number) => (Math.round(t / g) % Math.round(every / g) === 0 ? 1 : 0);
    const grid = new Grid(params, t0 + f + 4 * e);
    grid.up();
    grid.counter("etl_failures_total", orders, (t) => background(t) + (t === t0 ? Math.floor(threshold) + 1 : 0));
    grid.counter("etl_failures_total", customers, (t) => background(t) + (t === t0 ? Math.floor(threshold * 0.6) : 0));
    plans.push({
      name: `EtlHighFailureRate: a burst of ${Math.floor(threshold) + 1} failures at ${formatDuration(t0)} fires after ${formatDuration(f)}; ${Math.floor(threshold * 0.6)} does not`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: { alert: "EtlHighFailureRate", fires: orders, quiet: customers },
    });
  }
  {
    // Ten times the threshold, then orders drops to a fifth of it at t0
    // while customers stops completely for 80 % of a window and resumes
    // (its rate over the window never falls below twice the threshold).
    const { windowSeconds: w, threshold, forSeconds: f } = params.lowThroughput;
    const grid = new Grid(params, t0 + w + f + 4 * e);
    grid.up();
    grid.counter("etl_records_total", orders, (t) => (t <= t0 ? 10 : 0.2) * threshold * g);
    grid.counter("etl_records_total", customers, (t) => (t > t0 && t <= t0 + 0.8 * w ? 0 : 10 * threshold * g));
    plans.push({
      name: `EtlLowThroughput: ${FIRES} drops from 10x to 0.2x the threshold at ${formatDuration(t0)}; ${QUIET} stops for 80 % of a window`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: { alert: "EtlLowThroughput", fires: orders, quiet: customers },
    });
  }
  {
    // Fast files (a third of the threshold) at every scrape; from t0
    // orders only has slow ones (twice the threshold). customers has one
    // slow outlier and, every tenth scrape, a file exactly on the
    // threshold's bucket bound: the estimate can reach the bound, never pass it.
    const { windowSeconds: w, thresholdSeconds: bound, forSeconds: f } = params.slowProcessing;
    const buckets = [...DURATION_BUCKETS_SECONDS, Infinity];
    const fast = bound / 3;
    const slow = bound * 2;
    const grid = new Grid(params, t0 + w + f + 4 * e);
    grid.up();
    // At least 40 files per window, so that one outlier is under 5 %.
    const perStep = Math.max(1, Math.ceil(40 / Math.round(w / g)));
    const fastFiles = (i: number, withBound: boolean): number[] =>
      Array.from({ length: perStep }, (_, k) => (withBound && k === 0 && i % 10 === 0 ? bound : fast));
    const filesAt = (pipeline: string) => (t: number, i: number): number[] => {
      if (pipeline === FIRES) return t < t0 ? fastFiles(i, false) : i % 4 === 0 ? [slow] : [];
      return t === t0 ? [slow] : fastFiles(i, true);
    };
    for (const pipeline of [FIRES, QUIET]) {
      for (const le of buckets) {
        const labels = { ...pipelineLabels(params, pipeline), le: le === Infinity ? "+Inf" : String(le) };
        grid.counter("etl_file_processing_duration_seconds_bucket", labels, (t, i) => filesAt(pipeline)(t, i).filter((d) => d <= le).length);
      }
    }
    plans.push({
      name: `EtlSlowProcessing: files of ${FIRES} take ${slow} s instead of ${tidyNumber(fast)} s from ${formatDuration(t0)}; ${QUIET} has one slow outlier and files of exactly ${bound} s`,
      kind: "boundary",
      set: grid.set(),
      horizonSeconds: grid.horizon,
      boundary: { alert: "EtlSlowProcessing", fires: orders, quiet: customers },
    });
  }
  plans.push(...runBoundaryPlans(params));
  return plans;
}

/**
 * Boundary plans of the run alerts. Their thresholds are gauges the
 * exporter publishes, so each plan sets them; the change comes at `tb`.
 * A long day of interval keeps the critical EtlPipelineLate out of them.
 */
function runBoundaryPlans(params: AlertParams): TestPlan[] {
  const g = params.scrapeIntervalSeconds;
  const e = params.evaluationIntervalSeconds;
  const tb = onGrid(params, 40 * g);
  const horizon = tb + 4 * e;
  // With a target label beside the join's (job, instance, pipeline): the alert must keep it.
  const orders = { ...pipelineLabels(params, FIRES), host: "etl-host-1" };
  const customers = { ...pipelineLabels(params, QUIET), host: "etl-host-1" };
  const both = [orders, customers];
  const plans: TestPlan[] = [];
  const plan = (alert: AlertName, name: string, build: (grid: Grid) => void, extra: Record<string, string> = {}) => {
    const grid = new Grid(params, horizon);
    grid.up();
    build(grid);
    const boundary = { alert, fires: { ...orders, ...extra }, quiet: { ...customers, ...extra } };
    plans.push({ name: `${alert}: ${name}`, kind: "boundary", set: grid.set(), horizonSeconds: horizon, boundary });
  };
  plan("EtlPipelineLate", `${FIRES}'s deadline passes at ${formatDuration(tb)} with no success; ${QUIET} succeeds exactly at its deadline`, (grid) => {
    for (const labels of both) grid.add("etl_schedule_interval_seconds", labels, () => 86_400);
    grid.add("etl_deadline_timestamp_seconds", orders, () => tb);
    grid.add("etl_deadline_timestamp_seconds", customers, (t) => (t < tb ? tb : tb + 86_400));
  });
  plan("EtlRunFailed", `the last run of batch ${FIRES} fails at ${formatDuration(tb)}; the always-on ${QUIET} restarts (a failed run of a service)`, (grid) => {
    grid.add("etl_pipeline_info", { ...orders, kind: "batch", schedule: "0 2 * * *" }, () => 1);
    grid.add("etl_pipeline_info", { ...customers, kind: "service", schedule: "" }, () => 1);
    for (const labels of both) {
      grid.add("etl_last_run_status", { ...labels, status: "failed" }, (t) => (t >= tb ? 1 : 0));
      grid.add("etl_last_run_status", { ...labels, status: "success" }, (t) => (t >= tb ? 0 : 1));
    }
  }, { status: "failed" });
  const max = 10 * g;
  plan("EtlRunTooLong", `${FIRES}'s run passes its max_run_duration of ${formatDuration(max)} at ${formatDuration(tb)}; ${QUIET}'s finishes exactly then`, (grid) => {
    for (const labels of both) {
      grid.add("etl_pipeline_max_run_duration_seconds", labels, () => max);
      grid.add("etl_last_run_start_timestamp_seconds", labels, () => tb - max);
    }
    grid.add("etl_runs_in_progress", orders, () => 1);
    grid.add("etl_runs_in_progress", customers, (t) => (t >= tb ? 0 : 1));
  });
  plan("EtlEmptyRun", `${FIRES}'s run at ${formatDuration(tb)} has 9 records (min_records 10); ${QUIET}'s exactly 10`, (grid) => {
    for (const labels of both) grid.add("etl_pipeline_min_records", labels, () => 10);
    grid.add("etl_last_successful_run_records", orders, (t) => (t >= tb ? 9 : 12));
    grid.add("etl_last_successful_run_records", customers, (t) => (t >= tb ? 10 : 12));
  });
  plan("EtlVolumeDrop", `${FIRES}'s run at ${formatDuration(tb)} has 40 % of the usual records; ${QUIET}'s exactly half`, (grid) => {
    grid.add("etl_last_successful_run_records", orders, (t) => (t >= tb ? 400 : 1000));
    grid.add("etl_last_successful_run_records", customers, (t) => (t >= tb ? 500 : 1000));
  });
  return plans;
}

/**
 * Plans of batch pipelines against the always-on alerts, each listing what
 * fires (the model's prediction, checked by promtool): idle between runs,
 * nothing may; a run in progress that goes silent, and a silent service,
 * fire as they always did; a pipeline that misses runs is late, then critical.
 *
 * @example
 * ```ts
 * batchPlans(PRODUCTION_ALERT_PARAMS).map((p) => p.name);
 * ```
 */
export function batchPlans(params: AlertParams): TestPlan[] {
  const g = params.scrapeIntervalSeconds;
  const horizon = onGrid(params, Math.max(7200 / params.speed, params.noSuccess.thresholdSeconds + params.lowThroughput.windowSeconds + params.lowThroughput.forSeconds + 40 * g));
  const orders = pipelineLabels(params, FIRES);
  const customers = pipelineLabels(params, QUIET);
  const buckets = [...DURATION_BUCKETS_SECONDS.map(String), "+Inf"];
  /** What the exporter serves for a pipeline whose last event and success were at time 0. */
  const silent = (grid: Grid, labels: Record<string, string>, health: (t: number) => number, between: number | null) => {
    grid.add("etl_health_status", labels, health);
    grid.add("etl_last_success_timestamp_seconds", labels, () => 0);
    grid.counter("etl_records_total", labels, () => 0);
    grid.counter("etl_failures_total", labels, () => 0);
    for (const le of buckets) grid.counter("etl_file_processing_duration_seconds_bucket", { ...labels, le }, () => 0);
    if (between !== null) grid.add("etl_pipeline_between_runs", labels, () => between);
  };
  const plans: TestPlan[] = [];
  {
    const grid = new Grid(params, horizon);
    grid.up();
    for (const labels of [orders, customers]) {
      silent(grid, labels, () => 1, 1);
      grid.add("etl_deadline_timestamp_seconds", labels, () => horizon + 3600);
      grid.add("etl_schedule_interval_seconds", labels, () => 86_400);
      grid.add("etl_pipeline_info", { ...labels, kind: "batch", schedule: "0 2 * * *" }, () => 1);
      grid.add("etl_last_run_status", { ...labels, status: "success" }, () => 1);
      grid.add("etl_last_successful_run_records", labels, () => 1000);
    }
    plans.push({ name: `batch idle: both pipelines between runs for ${formatDuration(horizon)}, no file, no event; nothing fires`, kind: "scenario", set: grid.set(), horizonSeconds: horizon });
  }
  {
    // The exporter's verdict: stale 60 s after the last event (time 0).
    const stale = (t: number) => (t > 60 ? 0 : 1);
    const grid = new Grid(params, horizon);
    grid.up();
    silent(grid, orders, stale, 0);
    silent(grid, customers, stale, null);
    plans.push({
      name: `batch silent run: ${FIRES}'s run in progress and the always-on ${QUIET} go silent at 0; both fire the always-on alerts`,
      kind: "scenario",
      set: grid.set(),
      horizonSeconds: horizon,
    });
  }
  {
    // A run starts at tb, its last successful file from the run before: no-success waits for the run
    // to be older than its threshold, and then fires if the run still has none.
    const threshold = params.noSuccess.thresholdSeconds;
    const tb = onGrid(params, threshold + 10 * g);
    const end = onGrid(params, tb + threshold + 8 * g);
    const grid = new Grid(params, end);
    grid.up();
    grid.add("etl_health_status", orders, () => 1);
    grid.add("etl_last_success_timestamp_seconds", orders, () => 0);
    // No record yet either: EtlLowThroughput waits for the run to be a window old.
    grid.counter("etl_records_total", orders, () => 0);
    grid.add("etl_pipeline_between_runs", orders, (t) => (t < tb ? 1 : 0));
    grid.add("etl_runs_in_progress", orders, (t) => (t < tb ? 0 : 1));
    grid.add("etl_last_run_start_timestamp_seconds", orders, (t) => (t < tb ? 0 : tb));
    grid.add("etl_pipeline_info", { ...orders, kind: "batch", schedule: "every 1h" }, () => 1);
    plans.push({
      name: `batch run start: ${FIRES}'s run starts at ${formatDuration(tb)}, its last success long before; EtlNoSuccessIn10Minutes waits ${formatDuration(threshold)} of the run, EtlLowThroughput a window`,
      kind: "scenario",
      set: grid.set(),
      horizonSeconds: end,
    });
  }
  {
    const interval = 20 * g;
    const tb = onGrid(params, 10 * g);
    const late = onGrid(params, tb + interval + 8 * g);
    const grid = new Grid(params, late);
    grid.up();
    for (const labels of [orders, customers]) grid.add("etl_schedule_interval_seconds", labels, () => interval);
    grid.add("etl_deadline_timestamp_seconds", orders, () => tb);
    grid.add("etl_deadline_timestamp_seconds", customers, () => late + interval);
    plans.push({
      name: `batch late: ${FIRES} misses its deadline at ${formatDuration(tb)} (warning) and the next one ${formatDuration(interval)} later (critical)`,
      kind: "scenario",
      set: grid.set(),
      horizonSeconds: late,
    });
  }
  return plans;
}

function tidyNumber(n: number): string {
  return String(Number(n.toPrecision(4)));
}

/**
 * Scenarios a scenario plan runs (`crash` is process-wide, both pipelines stop).
 *
 * @example
 * ```ts
 * await simulatedPlans(PRODUCTION_ALERT_PARAMS, { scenarios: SCENARIO_PLANS });
 * ```
 */
export const SCENARIO_PLANS: ReadonlyArray<Exclude<Scenario, "normal">> = ["stall", "crash", "slow", "error-burst", "low-throughput"];

/** Options of {@linkcode simulatedPlans}. */
export interface SimulatedPlanOptions {
  /** Profile seconds before `orders` switches scenario (divided by the speed). */
  switchAfterSeconds?: number;
  /** Profile seconds each scenario plan runs (divided by the speed, but at least 5 wall minutes). */
  scenarioSeconds?: number;
  /** Profile seconds of the normal plan. */
  normalSeconds?: number;
  /** Seeds of orders and customers. */
  seeds?: readonly [number, number];
  scenarios?: ReadonlyArray<Exclude<Scenario, "normal">>;
}

/**
 * Plans whose series come from the simulator engine.
 *
 * @example
 * ```ts
 * (await simulatedPlans(PRODUCTION_ALERT_PARAMS, { scenarios: ["slow"] })).length; // 2 (slow + normal)
 * ```
 */
export async function simulatedPlans(params: AlertParams, options: SimulatedPlanOptions = {}): Promise<TestPlan[]> {
  const speed = params.speed;
  const [ordersSeed, customersSeed] = options.seeds ?? [1, 2];
  const switchAt = onGrid(params, (options.switchAfterSeconds ?? 600) / speed);
  // The exporter's health verdict (60 s without events) runs on wall time.
  const scenarioHorizon = onGrid(params, Math.max((options.scenarioSeconds ?? 3600) / speed, switchAt + 300));
  // What every plan's scrapes share: the jobs and instances the rules read.
  const scrapes = {
    scrapeIntervalSeconds: params.scrapeIntervalSeconds,
    speed,
    exporterJob: params.exporterJob,
    simulatorJob: params.simulatorJob,
    exporterInstance: EXPORTER_INSTANCE,
    simulatorInstance: SIMULATOR_INSTANCE,
  };
  const plans: TestPlan[] = [];
  for (const scenario of options.scenarios ?? SCENARIO_PLANS) {
    const crash = scenario === "crash";
    const set = await simulateScrapes({
      pipelines: [
        { name: FIRES, seed: ordersSeed, ...(crash ? {} : { scenario, switchAtSeconds: switchAt }) },
        { name: QUIET, seed: customersSeed },
      ],
      durationSeconds: scenarioHorizon,
      ...scrapes,
      ...(crash ? { crashAtSeconds: switchAt } : {}),
    });
    plans.push({
      name: crash
        ? `scenario crash: the simulator exits at ${formatDuration(switchAt)}; both pipelines stop`
        : `scenario ${scenario}: ${FIRES} switches to it at ${formatDuration(switchAt)}, ${QUIET} runs the default profile`,
      kind: "scenario",
      set,
      horizonSeconds: scenarioHorizon,
    });
  }
  const normalHorizon = onGrid(params, (options.normalSeconds ?? 7200) / speed);
  plans.push({
    name: `normal running: both pipelines in the default profile for ${formatDuration(normalHorizon)}; nothing fires`,
    kind: "normal",
    set: await simulateScrapes({
      pipelines: [{ name: FIRES, seed: ordersSeed + 100 }, { name: QUIET, seed: customersSeed + 100 }],
      durationSeconds: normalHorizon,
      ...scrapes,
    }),
    horizonSeconds: normalHorizon,
  });
  return plans;
}

/** A promtool test group. */
export interface PromtoolTestGroup {
  name: string;
  interval: string;
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test: Array<{
    eval_time: string;
    alertname: string;
    exp_alerts: Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }>;
  }>;
  promql_expr_test: Array<{ expr: string; eval_time: string; exp_samples: Array<{ labels: string; value: number }> }>;
}

/** A promtool test file. */
export interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: PromtoolTestGroup[];
}

/** `name{a="b"}` in PromQL series notation, labels sorted. */
function seriesNotation(name: string, labels: Readonly<Record<string, string>>): string {
  const body = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",");
  return `${name}{${body}}`;
}

/**
 * promtool's expanding notation for a series' values: runs of missing
 * samples as `_xN`, arithmetic runs of three or more as `a+bxN`.
 *
 * @example
 * ```ts
 * encodeValues([null, null, 1, 2, 3, 3, "stale"]); // "_x2 1+1x2 3 stale"
 * ```
 */
export function encodeValues(values: readonly SampleValue[]): string {
  const out: string[] = [];
  const num = (v: number) => String(v);
  let i = 0;
  while (i < values.length) {
    const v = values[i];
    if (v === null || v === undefined) {
      let j = i;
      while (j < values.length && (values[j] === null || values[j] === undefined)) j++;
      out.push(j - i === 1 ? "_" : `_x${j - i}`);
      i = j;
      continue;
    }
    if (v === "stale") {
      out.push("stale");
      i++;
      continue;
    }
    // Extend an arithmetic run with an integer step (exact when expanded).
    const next = values[i + 1];
    if (typeof next === "number" && Number.isInteger(next - v) && Number.isSafeInteger(v)) {
      const d = next - v;
      let j = i + 1;
      while (j + 1 < values.length && typeof values[j + 1] === "number" && (values[j + 1] as number) - (values[j] as number) === d) j++;
      if (j - i >= 2) {
        out.push(`${num(v)}${d < 0 ? "-" : "+"}${Math.abs(d)}x${j - i}`);
        i = j + 1;
        continue;
      }
    }
    out.push(num(v));
    i++;
  }
  return out.join(" ");
}

/** The alert's expected labels and annotations as promtool lists them. */
function expectedAlert(params: AlertParams, alert: AlertName, labels: Record<string, string>, value: number) {
  // An alert may be written twice, one rule per severity.
  const def = alertDefinitions(params).find((d) => d.name === alert && d.severity === labels.severity)!;
  const { alertname: _name, ...expLabels } = labels;
  return {
    exp_labels: expLabels,
    exp_annotations: {
      summary: renderTemplate(def.summary, { labels, value }),
      description: renderTemplate(def.description, { labels, value }),
      runbook_url: `${params.runbookUrl}#${def.runbookAnchor}`,
    },
  };
}

/** The alerts of one name firing at `t`, per the model, with their values at `t`. */
function firingList(params: AlertParams, set: SeriesSet, episodes: readonly AlertEpisode[], alert: AlertName, t: number) {
  const values = evaluateExpression(alert, params, set, t);
  return episodes
    .filter((ep) => ep.alert === alert && firingAt(ep, t))
    .map((ep) => {
      const { alertname: _a, severity: _s, ...seriesLabels } = ep.labels;
      const sample = values.find((v) => JSON.stringify(Object.entries(v.labels).sort()) === JSON.stringify(Object.entries(seriesLabels).sort()));
      if (!sample) throw new Error(`model: ${alert} firing at ${t} without a sample`);
      return expectedAlert(params, alert, ep.labels, sample.value);
    })
    .sort((a, b) => JSON.stringify(a.exp_labels).localeCompare(JSON.stringify(b.exp_labels)));
}

function matches(labels: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v) && Object.keys(labels).every((k) => k === "alertname" || k === "severity" || k in want);
}

/**
 * Works out a plan's expectations with the model and writes the promtool group.
 *
 * @throws when a boundary plan does not do what its name says.
 * @example
 * ```ts
 * const group = promtoolGroup(PRODUCTION_ALERT_PARAMS, boundaryPlans(PRODUCTION_ALERT_PARAMS)[0]!);
 * group.alert_rule_test.map((t) => t.eval_time); // ["16m45s", "17m"]: silent, then firing
 * ```
 */
export function promtoolGroup(params: AlertParams, plan: TestPlan): PromtoolTestGroup {
  const e = params.evaluationIntervalSeconds;
  const episodes = evaluateAlerts(params, plan.set, plan.horizonSeconds);
  const fired = episodes.filter((ep) => ep.firingAt !== null);
  const group: PromtoolTestGroup = {
    name: plan.name,
    interval: formatDuration(plan.set.intervalSeconds),
    input_series: plan.set.series.map((s) => ({ series: seriesNotation(s.name, s.labels), values: encodeValues(s.values) })),
    alert_rule_test: [],
    promql_expr_test: [],
  };
  const checks = new Map<string, { alert: AlertName; t: number }>();
  const check = (alert: AlertName, t: number) => {
    if (t >= 0) checks.set(`${alert}@${t}`, { alert, t });
  };
  if (plan.boundary) {
    const { alert, fires, quiet } = plan.boundary;
    const def = alertDefinitions(params).find((d) => d.name === alert)!;
    const mine = fired.filter((ep) => ep.alert === alert);
    const firing = mine.filter((ep) => matches(ep.labels, fires));
    if (firing.length !== 1 || mine.length !== 1) {
      throw new Error(`boundary plan "${plan.name}": expected exactly one ${alert} for ${JSON.stringify(fires)}, model says ${JSON.stringify(mine)}`);
    }
    const ep = firing[0]!;
    if (Math.abs(ep.firingAt! - ep.activeAt - onGrid(params, def.forSeconds)) > 1e-6) {
      throw new Error(`boundary plan "${plan.name}": fires at ${ep.firingAt}, not activeAt + for`);
    }
    const others = fired.filter((q) => q.alert !== alert);
    if (others.length > 0) throw new Error(`boundary plan "${plan.name}": other alerts fire: ${JSON.stringify(others)}`);
    check(alert, ep.firingAt! - e);
    check(alert, ep.firingAt!);
    // Also where the quiet side is closest: the last evaluation it was pending.
    for (const q of episodes.filter((x) => x.alert === alert && matches(x.labels, quiet) && x.endedAt !== null)) check(alert, q.endedAt! - e);
  } else {
    // First firing of every (alert, labels), and one evaluation before.
    const first = new Map<string, AlertEpisode>();
    for (const ep of fired) {
      const key = JSON.stringify(Object.entries(ep.labels).sort());
      if (!first.has(key)) first.set(key, ep);
    }
    for (const ep of first.values()) {
      check(ep.alert, ep.firingAt! - e);
      check(ep.alert, ep.firingAt!);
    }
  }
  for (const { alert, t } of [...checks.values()].sort((a, b) => a.t - b.t || ALERT_NAMES.indexOf(a.alert) - ALERT_NAMES.indexOf(b.alert))) {
    group.alert_rule_test.push({
      eval_time: formatDuration(t),
      alertname: alert,
      exp_alerts: firingList(params, plan.set, episodes, alert, t),
    });
  }
  // Everything that fired at any evaluation of the whole run, and nothing else.
  const ever = new Map<string, Record<string, string>>();
  for (const ep of fired) {
    if (ep.firingAt! > plan.horizonSeconds) continue;
    const labels = { ...ep.labels, alertstate: "firing" };
    ever.set(JSON.stringify(Object.entries(labels).sort()), labels);
  }
  group.promql_expr_test.push({
    expr: `max_over_time(ALERTS{alertstate="firing"}[${formatDuration(plan.horizonSeconds)}])`,
    eval_time: formatDuration(plan.horizonSeconds),
    exp_samples: [...ever.keys()].sort().map((k) => ({ labels: seriesNotation("", ever.get(k)!), value: 1 })),
  });
  return group;
}

/** Options of {@linkcode ruleTestFile}. */
export interface RuleTestOptions extends SimulatedPlanOptions {
  /** The rule file, relative to the test file. */
  ruleFile?: string;
  /** Leave out the engine-made plans (boundary tests only). */
  boundaryOnly?: boolean;
}

/**
 * The whole promtool test file for `params`.
 *
 * @example
 * ```ts
 * (await ruleTestFile()).tests.length;
 * ```
 */
export async function ruleTestFile(params: AlertParams = PRODUCTION_ALERT_PARAMS, options: RuleTestOptions = {}): Promise<PromtoolTestFile> {
  const plans = [...boundaryPlans(params), ...batchPlans(params), ...(options.boundaryOnly ? [] : await simulatedPlans(params, options))];
  return {
    rule_files: [options.ruleFile ?? RULES_PATH.split("/").pop()!],
    evaluation_interval: formatDuration(params.evaluationIntervalSeconds),
    tests: plans.map((plan) => promtoolGroup(params, plan)),
  };
}

/**
 * The test file's text, with a header saying where it comes from and what
 * promtool cannot test.
 *
 * @example
 * ```ts
 * (await ruleTestsYaml()).startsWith("# Generated"); // true
 * ```
 */
export async function ruleTestsYaml(params: AlertParams = PRODUCTION_ALERT_PARAMS, options: RuleTestOptions = {}): Promise<string> {
  const header = [
    "Generated from tools/alerts/rule_tests.ts by commands/build/rules.ts; do not edit.",
    "Run: promtool test rules prometheus/rules/etl-alerts.test.yml",
    "",
    "Per alert, a boundary group: orders fires exactly at activeAt + for (silent one",
    "evaluation before), customers comes as close as it can and stays silent. Then",
    "scenario groups (series made by the simulator engine, reducer and metric",
    "families) and two hours of normal running, where nothing fires.",
    "Boundary times assume Prometheus 2.x range selectors ([t-w, t], closed).",
    "",
    "Inhibition is Alertmanager's and cannot be tested by promtool: see",
    "prometheus/alertmanager.yml and lib/alerts/alertmanager_config.test.ts.",
  ].join("\n");
  return toYaml(await ruleTestFile(params, options), header);
}
