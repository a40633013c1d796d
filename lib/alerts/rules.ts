/**
 * The ETL alert rules as data: the single source of
 * `prometheus/rules/etl-alerts.yml` (written by `commands/build/rules.ts`; a
 * test fails when the file is stale), of its promtool unit tests, of the
 * Alertmanager inhibition and of the time-compressed copy the live test runs.
 *
 * **Only the production parameters ship** ({@linkcode PRODUCTION_ALERT_PARAMS},
 * what the committed YAML holds). {@linkcode alertParamsForSpeed} derives
 * shortened ones for a simulator run with `ETL_SPEED=S`; they exist for the
 * live test and are never deployed.
 *
 * Why the thresholds are what they are (default simulator profile: ~10
 * records/s while processing, files of 50–500 records taking 5–50 s,
 * failures a Poisson process of 1/min while a file runs, so about a third of
 * the files fail). Figures come from 100 simulated days of the real engine,
 * sampled every 15 s, unless said otherwise; `docs/runbook.md` repeats them.
 *
 * - EtlHighFailureRate: more than 20 failures in 5 min. Normal running sees
 *   Poisson(≈4.9) failures per 5 min; P(≥ 21) ≈ 6·10⁻⁸ per window, and the
 *   largest count seen in 100 simulated days was 18 (15 was exceeded 8
 *   times, hence not 15). `error-burst` gives 85–160 per 5 min.
 * - EtlLowThroughput: under 1 record/s over 10 min. Normal: 8.9–10.6;
 *   `low-throughput`: 0.41–0.75; `slow` (2 records/s):
 *   1.16–2.8, so `slow` does not trip it on purpose: slowness has its own
 *   alert, and a drop to a fifth of normal throughput is what
 *   EtlSlowProcessing reports. 1 sits between 0.75 and 1.16 (its geometric
 *   middle is ~0.93). A 10-minute window because records count when a file
 *   finishes: a 5-minute window under `slow` dipped to 0.36.
 * - EtlSlowProcessing: p95 of successful file durations over 15 min above
 *   60 s, read from the histogram. Normal files take at most 50 s, all in
 *   the `le="60"` bucket, so the estimate can never exceed 60 (max seen
 *   58.6); under `slow` (files 25–250 s, median ~120 s) it is above 60 in
 *   over 99.9 % of the evaluations. The threshold is a bucket bound on purpose:
 *   `histogram_quantile` interpolates inside a bucket, so only a bound is
 *   safe against durations just under it. 15 min rather than 10: under
 *   `slow` a 10-min window held no successful file (NaN, which resets
 *   `for`) in 159 of 115,000 evaluations (20 simulated days).
 * - EtlNoSuccessIn10Minutes: `time() - etl_last_success_timestamp_seconds > 600`.
 *   The longest gap between successes in normal running was 227 s.
 * - EtlHealthCheckFailed: `etl_health_status == 0` for 2 min (the issue's
 *   figure). Normal running has runs of six failed files in a row (health
 *   0) about 4.6 times a day, lasting up to 8 evaluations (105 s) in 100
 *   days; 2 min needs 9 in a row. Expect a chance page every few months
 *   with a job that fails a third of its files; a real job fails far less.
 * - EtlMetricsEndpointDown: `up == 0` or no `up` series at all, for 1 min
 *   (4–5 failed scrapes; one failed scrape does not page).
 *
 * Batch pipelines (see `lib/catalog`): the no-success, failure-rate,
 * throughput and slow-processing alerts hold off while a pipeline is
 * between runs (`etl_pipeline_between_runs == 1`); the exporter keeps
 * `etl_health_status` at 1 then. The no-success alert also waits for a
 * batch run to be older than its threshold: its last successful file is
 * from the previous run (the 24 h soak with batch jobs found it firing at
 * every run's start). A run in progress is watched like a
 * service. The run alerts read thresholds the exporter publishes from the
 * catalog (deadline, interval, max_run_duration, min_records), so they need
 * no per-pipeline rule and keep working across exporter restarts:
 * - EtlPipelineLate: `time() > etl_deadline_timestamp_seconds` (the grace
 *   is in the deadline), warning; critical once late by another interval.
 * - EtlRunFailed: the last run finished failed, for a batch pipeline (a
 *   restarted always-on service is the health alert's business).
 * - EtlRunTooLong: the run in progress is older than max_run_duration.
 * - EtlEmptyRun: the last successful run had fewer than min_records.
 * - EtlVolumeDrop: the last successful run's records are under half the
 *   median of the last 7 days (a recording rule, in its own group
 *   evaluated once a minute: a 7-day median does not need 15 s freshness).
 *
 * Every pipeline alert reads only the exporter's job (`job="etl-metrics"`):
 * the simulator serves the same `etl_*` families on its own `/metrics`, and
 * without the selector every pipeline alert would fire twice.
 *
 * @example
 * ```ts
 * import { alertRules, alertRulesYaml, alertParamsForSpeed } from "./rules.ts";
 * alertRules().groups[0]!.rules.map((r) => r.alert); // the six names
 * alertRulesYaml(alertParamsForSpeed(60, { scrapeIntervalSeconds: 1 })); // the live test's copy
 * ```
 * @module
 */
import { stringify } from "yaml";
import { DEFAULT_HEALTH_POLICY } from "../etl/health.ts";
import { DURATION_BUCKETS_SECONDS } from "../etl/state.ts";
import { formatDuration } from "./duration.ts";
import { ifLabel, label, type Template, template, toGoTemplate, value } from "./template.ts";

// The exporter's staleness limit is its own setting, unknown to the rules: name it with its default.
const STALE_TEXT = `ETL_STALE_AFTER_SECONDS (${DEFAULT_HEALTH_POLICY.staleAfterMs / 1000} s unless set)`;

/** Where the rules are published, relative to the repository root. */
export const RULES_PATH = "prometheus/rules/etl-alerts.yml";
/** The runbook every `runbook_url` points into, relative to the repository root. */
export const RUNBOOK_PATH = "docs/runbook.md";

/** The alerts, in the order they are written: the six of the always-on pipeline, then the five of batch runs. */
export const ALERT_NAMES = [
  "EtlMetricsEndpointDown",
  "EtlHealthCheckFailed",
  "EtlNoSuccessIn10Minutes",
  "EtlHighFailureRate",
  "EtlLowThroughput",
  "EtlSlowProcessing",
  "EtlPipelineLate",
  "EtlRunFailed",
  "EtlRunTooLong",
  "EtlEmptyRun",
  "EtlVolumeDrop",
] as const;
/** One of {@linkcode ALERT_NAMES}. */
export type AlertName = (typeof ALERT_NAMES)[number];

/** Alert severities; Alertmanager routes on them. */
export type Severity = "critical" | "warning";

/** What the rules are built from. Durations are in seconds. */
export interface AlertParams {
  /** The time compression these parameters are for: 1 in production. */
  speed: number;
  /** Scrape interval of the stack's jobs; no rate window is shorter than 4 of them. */
  scrapeIntervalSeconds: number;
  /** The rule group's evaluation interval (written as the group's `interval`). */
  evaluationIntervalSeconds: number;
  /** Prometheus job of the exporter (`etl-metrics`). */
  exporterJob: string;
  /** Prometheus job of the simulator's own `/metrics` (`etl-simulator`). */
  simulatorJob: string;
  /** Where the runbook is; `#<alert name in lower case>` is appended. */
  runbookUrl: string;
  endpointDown: { forSeconds: number };
  healthCheckFailed: { forSeconds: number };
  noSuccess: { thresholdSeconds: number; forSeconds: number };
  /** `threshold`: failed files within the window. */
  highFailureRate: { windowSeconds: number; threshold: number; forSeconds: number };
  /** `threshold`: records per second. */
  lowThroughput: { windowSeconds: number; threshold: number; forSeconds: number };
  /** `thresholdSeconds` must be a bucket bound of the duration histogram. */
  slowProcessing: { quantile: number; windowSeconds: number; thresholdSeconds: number; forSeconds: number };
  pipelineLate: { forSeconds: number };
  runFailed: { forSeconds: number };
  runTooLong: { forSeconds: number };
  emptyRun: { forSeconds: number };
  /** `ratio`: of the median of the last successful runs' records over the window. */
  volumeDrop: { windowSeconds: number; ratio: number; forSeconds: number };
  /** Evaluation interval of the recording rules' group. */
  recordingIntervalSeconds: number;
}

/** The parameters that ship (see the module comment for the reasoning). */
export const PRODUCTION_ALERT_PARAMS: Readonly<AlertParams> = Object.freeze({
  speed: 1,
  scrapeIntervalSeconds: 15,
  evaluationIntervalSeconds: 15,
  exporterJob: "etl-metrics",
  simulatorJob: "etl-simulator",
  // A repository-relative reference: the runbook lives beside the code and
  // is read wherever the repository is browsed. A deployment with a web
  // address for it passes `--runbook-url` to commands/build/rules.ts.
  runbookUrl: RUNBOOK_PATH,
  endpointDown: { forSeconds: 60 },
  healthCheckFailed: { forSeconds: 120 },
  // The threshold is the "10 minutes" of the name; no `for` on top, which
  // would make it 10 minutes plus. The value only grows between successes,
  // so there is no noise for a `for` to filter.
  noSuccess: { thresholdSeconds: 600, forSeconds: 0 },
  highFailureRate: { windowSeconds: 300, threshold: 20, forSeconds: 120 },
  lowThroughput: { windowSeconds: 600, threshold: 1, forSeconds: 300 },
  slowProcessing: { quantile: 0.95, windowSeconds: 900, thresholdSeconds: 60, forSeconds: 300 },
  // No `for`: the exporter's gauges already hold the thresholds (the grace is in the deadline)
  // and change only when a run starts or ends, so there is no noise to wait out.
  pipelineLate: { forSeconds: 0 },
  runFailed: { forSeconds: 0 },
  runTooLong: { forSeconds: 0 },
  emptyRun: { forSeconds: 0 },
  volumeDrop: { windowSeconds: 7 * 86_400, ratio: 0.5, forSeconds: 0 },
  recordingIntervalSeconds: 60,
});

/** Options of {@linkcode alertParamsForSpeed}. */
export interface SpeedOptions {
  /** The scrape interval of the compressed run (e.g. 1). */
  scrapeIntervalSeconds: number;
  /** Defaults to the scrape interval. */
  evaluationIntervalSeconds?: number;
}

/** Rounds to 6 significant digits so the number reads well in an expression. */
function tidy(n: number): number {
  return Number(n.toPrecision(6));
}

/**
 * Parameters for a simulator running `speed` times faster (`ETL_SPEED`):
 * thresholds on rates ×speed, on durations ÷speed, windows and `for`
 * ÷speed. Windows are rounded up to whole scrape intervals and are never
 * under 4 of them; `for` is rounded up to whole evaluation intervals; the
 * no-success threshold is never under 4 scrape intervals either. When a
 * window had to be lengthened, the failure-count threshold grows with it
 * (the window then covers more profile time). The slow-processing
 * threshold is raised to the next histogram bucket bound.
 *
 * What does not compress: the exporter's health verdict (no event for
 * ETL_STALE_AFTER_SECONDS of wall time; heartbeats come every 5 s of wall time) and Alertmanager's
 * timings. For the live test only; never deployed.
 *
 * @example
 * ```ts
 * const p = alertParamsForSpeed(60, { scrapeIntervalSeconds: 1 });
 * p.highFailureRate.windowSeconds; // 5
 * p.lowThroughput.threshold; // 60
 * ```
 */
export function alertParamsForSpeed(speed: number, options: SpeedOptions): AlertParams {
  if (!(speed >= 1) || !Number.isFinite(speed)) throw new RangeError(`speed must be ≥ 1, got ${speed}`);
  const scrape = options.scrapeIntervalSeconds;
  const evaluation = options.evaluationIntervalSeconds ?? scrape;
  if (!(scrape > 0) || !(evaluation > 0)) throw new RangeError("intervals must be positive");
  const p = PRODUCTION_ALERT_PARAMS;
  const ceilTo = (seconds: number, step: number) => tidy(Math.ceil(tidy(seconds / step)) * step);
  const window = (seconds: number) => Math.max(ceilTo(seconds / speed, scrape), 4 * scrape);
  const hold = (seconds: number) => (seconds === 0 ? 0 : Math.max(ceilTo(seconds / speed, evaluation), evaluation));
  const failureWindow = window(p.highFailureRate.windowSeconds);
  const slowBound = DURATION_BUCKETS_SECONDS.find((b) => b >= p.slowProcessing.thresholdSeconds / speed - 1e-9);
  return {
    ...p,
    speed,
    scrapeIntervalSeconds: scrape,
    evaluationIntervalSeconds: evaluation,
    endpointDown: { forSeconds: hold(p.endpointDown.forSeconds) },
    healthCheckFailed: { forSeconds: hold(p.healthCheckFailed.forSeconds) },
    noSuccess: {
      thresholdSeconds: Math.max(tidy(p.noSuccess.thresholdSeconds / speed), 4 * scrape),
      forSeconds: hold(p.noSuccess.forSeconds),
    },
    highFailureRate: {
      windowSeconds: failureWindow,
      threshold: tidy((p.highFailureRate.threshold * failureWindow * speed) / p.highFailureRate.windowSeconds),
      forSeconds: hold(p.highFailureRate.forSeconds),
    },
    lowThroughput: {
      windowSeconds: window(p.lowThroughput.windowSeconds),
      threshold: tidy(p.lowThroughput.threshold * speed),
      forSeconds: hold(p.lowThroughput.forSeconds),
    },
    slowProcessing: {
      quantile: p.slowProcessing.quantile,
      windowSeconds: window(p.slowProcessing.windowSeconds),
      thresholdSeconds: slowBound ?? DURATION_BUCKETS_SECONDS[DURATION_BUCKETS_SECONDS.length - 1]!,
      forSeconds: hold(p.slowProcessing.forSeconds),
    },
    volumeDrop: { ...p.volumeDrop, windowSeconds: window(p.volumeDrop.windowSeconds) },
    recordingIntervalSeconds: Math.max(ceilTo(p.recordingIntervalSeconds / speed, evaluation), evaluation),
  };
}

/** One alert as data. */
export interface AlertDefinition {
  name: AlertName;
  severity: Severity;
  expr: string;
  forSeconds: number;
  summary: Template;
  description: Template;
  /** The runbook section's anchor (GitHub-style: the heading in lower case). */
  runbookAnchor: string;
  /** The series the expression reads (the unit tests feed exactly these). */
  metrics: readonly string[];
}

/**
 * Seconds for people, in annotation texts.
 *
 * @example
 * ```ts
 * describeSeconds(600); // "10 min"
 * describeSeconds(90); // "90 s"
 * ```
 */
export function describeSeconds(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${tidy(seconds)} s`;
}

/** Escapes a string for a PromQL double-quoted label value. */
function quote(text: string): string {
  return JSON.stringify(text);
}

/** Escapes a job name for use inside a `=~` alternation. */
function regexEscape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}

/**
 * The six alerts for `params`.
 *
 * @example
 * ```ts
 * alertDefinitions().find((a) => a.name === "EtlHighFailureRate")!.expr;
 * // 'increase(etl_failures_total{job="etl-metrics"}[5m]) > 20'
 * ```
 */
export function alertDefinitions(params: AlertParams = PRODUCTION_ALERT_PARAMS): AlertDefinition[] {
  const exporter = `job=${quote(params.exporterJob)}`;
  const pipeline = label("pipeline");
  const same = "on(job, instance, pipeline)";
  // A comparison matched `on()` one-to-one keeps only the `on()` labels; `group_left` keeps all
  // of the left side's (`host`, `service`, any target label) for routing and the notification.
  const sameKeep = `${same} group_left()`;
  // The always-on alerts hold off for a batch pipeline waiting for its next run.
  const unlessBetweenRuns = `\nunless ${same} etl_pipeline_between_runs{${exporter}} == 1`;
  const { endpointDown, healthCheckFailed, noSuccess, highFailureRate, lowThroughput, slowProcessing } = params;
  const defs: Array<Omit<AlertDefinition, "runbookAnchor">> = [
    {
      name: "EtlMetricsEndpointDown",
      severity: "critical",
      expr: [
        `up{job=~${quote(`${regexEscape(params.exporterJob)}|${regexEscape(params.simulatorJob)}`)}} == 0`,
        `or absent(up{job=${quote(params.exporterJob)}})`,
        `or absent(up{job=${quote(params.simulatorJob)}})`,
      ].join("\n"),
      forSeconds: endpointDown.forSeconds,
      summary: template`ETL scrape target ${label("job")} is down`,
      description: template`${ifLabel(
        "instance",
        template`Prometheus has failed to scrape ${label("instance")} (job ${label("job")})`,
        template`Prometheus has no target at all for job ${label("job")}`,
      )} for ${describeSeconds(endpointDown.forSeconds)}. The pipeline alerts that follow from it are inhibited while this one fires.`,
      metrics: ["up"],
    },
    {
      name: "EtlHealthCheckFailed",
      severity: "critical",
      expr: `etl_health_status{${exporter}} == 0`,
      forSeconds: healthCheckFailed.forSeconds,
      summary: template`ETL pipeline ${pipeline} is unhealthy`,
      description: template`etl_health_status of pipeline ${pipeline} has been 0 for ${describeSeconds(healthCheckFailed.forSeconds)}: no event (heartbeats included) for ${STALE_TEXT}, or its last ${DEFAULT_HEALTH_POLICY.maxConsecutiveFailures} files all failed. GET /health on ${label("instance")} says which.`,
      metrics: ["etl_health_status"],
    },
    {
      name: "EtlNoSuccessIn10Minutes",
      severity: "warning",
      // A batch run that started under the threshold ago has had no time to succeed yet.
      expr: `time() - etl_last_success_timestamp_seconds{${exporter}} > ${noSuccess.thresholdSeconds}${unlessBetweenRuns}` +
        `\nunless ${same} (time() - etl_last_run_start_timestamp_seconds{${exporter}} <= ${noSuccess.thresholdSeconds}` +
        ` and ${same} etl_pipeline_info{${exporter}, kind="batch"})`,
      forSeconds: noSuccess.forSeconds,
      summary: template`ETL pipeline ${pipeline} has had no successful file for ${describeSeconds(noSuccess.thresholdSeconds)}`,
      description: template`The last file pipeline ${pipeline} processed successfully finished ${value("duration")} ago (threshold ${describeSeconds(noSuccess.thresholdSeconds)}).`,
      metrics: ["etl_last_success_timestamp_seconds", "etl_pipeline_between_runs", "etl_last_run_start_timestamp_seconds", "etl_pipeline_info"],
    },
    {
      name: "EtlHighFailureRate",
      severity: "warning",
      expr: `increase(etl_failures_total{${exporter}}[${formatDuration(highFailureRate.windowSeconds)}]) > ${highFailureRate.threshold}${unlessBetweenRuns}`,
      forSeconds: highFailureRate.forSeconds,
      summary: template`ETL pipeline ${pipeline} is failing many files`,
      description: template`${value("fixed0")} files of pipeline ${pipeline} failed in the last ${describeSeconds(highFailureRate.windowSeconds)} (threshold ${String(highFailureRate.threshold)}).`,
      metrics: ["etl_failures_total", "etl_pipeline_between_runs"],
    },
    {
      name: "EtlLowThroughput",
      severity: "warning",
      // A batch run younger than the window is not judged on a window that is mostly before it.
      expr: `rate(etl_records_total{${exporter}}[${formatDuration(lowThroughput.windowSeconds)}]) < ${lowThroughput.threshold}${unlessBetweenRuns}` +
        `\nunless ${same} (time() - etl_last_run_start_timestamp_seconds{${exporter}} < ${lowThroughput.windowSeconds}` +
        ` and ${same} etl_pipeline_info{${exporter}, kind="batch"})`,
      forSeconds: lowThroughput.forSeconds,
      summary: template`ETL pipeline ${pipeline} has low throughput`,
      description: template`Pipeline ${pipeline} processed ${value("fixed2")} records/s over the last ${describeSeconds(lowThroughput.windowSeconds)} (threshold ${String(lowThroughput.threshold)} records/s).`,
      metrics: ["etl_records_total", "etl_pipeline_between_runs", "etl_last_run_start_timestamp_seconds", "etl_pipeline_info"],
    },
    {
      name: "EtlSlowProcessing",
      severity: "warning",
      expr: `histogram_quantile(${slowProcessing.quantile}, rate(etl_file_processing_duration_seconds_bucket{${exporter}}[${formatDuration(slowProcessing.windowSeconds)}])) > ${slowProcessing.thresholdSeconds}${unlessBetweenRuns}`,
      forSeconds: slowProcessing.forSeconds,
      summary: template`ETL pipeline ${pipeline} processes files slowly`,
      description: template`The p${String(tidy(slowProcessing.quantile * 100))} duration of the files pipeline ${pipeline} processed successfully in the last ${describeSeconds(slowProcessing.windowSeconds)} is ${value("duration")} (threshold ${describeSeconds(slowProcessing.thresholdSeconds)}).`,
      metrics: ["etl_file_processing_duration_seconds_bucket", "etl_pipeline_between_runs"],
    },
    {
      name: "EtlPipelineLate",
      severity: "warning",
      expr: `time() - etl_deadline_timestamp_seconds{${exporter}} > 0`,
      forSeconds: params.pipelineLate.forSeconds,
      summary: template`ETL pipeline ${pipeline} is late`,
      description: template`Pipeline ${pipeline} has had no successful run by its deadline (the scheduled time plus grace), ${value("duration")} ago. GET /health on ${label("instance")} shows its last run.`,
      metrics: ["etl_deadline_timestamp_seconds"],
    },
    {
      name: "EtlPipelineLate",
      severity: "critical",
      expr: `time() - etl_deadline_timestamp_seconds{${exporter}} > ${sameKeep} etl_schedule_interval_seconds{${exporter}}`,
      forSeconds: params.pipelineLate.forSeconds,
      summary: template`ETL pipeline ${pipeline} has missed another run`,
      description: template`Pipeline ${pipeline} has had no successful run by its deadline, ${value("duration")} ago: more than one full interval of its schedule. The data it feeds is a run behind.`,
      metrics: ["etl_deadline_timestamp_seconds", "etl_schedule_interval_seconds"],
    },
    {
      name: "EtlRunFailed",
      severity: "warning",
      expr: `etl_last_run_status{${exporter}, status="failed"} == 1\nand ${same} etl_pipeline_info{${exporter}, kind="batch"}`,
      forSeconds: params.runFailed.forSeconds,
      summary: template`The last run of ETL pipeline ${pipeline} failed`,
      description: template`The last run of pipeline ${pipeline} finished failed (or was cut short by the next start). It resolves when a later run finishes without failing.`,
      metrics: ["etl_last_run_status", "etl_pipeline_info"],
    },
    {
      name: "EtlRunTooLong",
      severity: "warning",
      expr: `time() - etl_last_run_start_timestamp_seconds{${exporter}} > ${sameKeep} etl_pipeline_max_run_duration_seconds{${exporter}}\nand ${same} etl_runs_in_progress{${exporter}} == 1`,
      forSeconds: params.runTooLong.forSeconds,
      summary: template`A run of ETL pipeline ${pipeline} is taking too long`,
      description: template`The run of pipeline ${pipeline} in progress started ${value("duration")} ago, longer than its max_run_duration: it may be hung (still heartbeating, making no progress).`,
      metrics: ["etl_last_run_start_timestamp_seconds", "etl_pipeline_max_run_duration_seconds", "etl_runs_in_progress"],
    },
    {
      name: "EtlEmptyRun",
      severity: "warning",
      expr: `etl_last_successful_run_records{${exporter}} < ${sameKeep} etl_pipeline_min_records{${exporter}}`,
      forSeconds: params.emptyRun.forSeconds,
      summary: template`The last run of ETL pipeline ${pipeline} was empty`,
      description: template`The last successful run of pipeline ${pipeline} had ${value("fixed0")} records, fewer than its min_records.`,
      metrics: ["etl_last_successful_run_records", "etl_pipeline_min_records"],
    },
    {
      name: "EtlVolumeDrop",
      severity: "warning",
      expr: `etl_last_successful_run_records{${exporter}} < ${sameKeep} (${String(params.volumeDrop.ratio)} * ${VOLUME_MEDIAN_RECORD}{${exporter}})`,
      forSeconds: params.volumeDrop.forSeconds,
      summary: template`ETL pipeline ${pipeline} delivered far fewer records than usual`,
      description: template`The last successful run of pipeline ${pipeline} had ${value("fixed0")} records, under ${String(tidy(params.volumeDrop.ratio * 100))} % of the median of the last ${describeSeconds(params.volumeDrop.windowSeconds)}.`,
      metrics: ["etl_last_successful_run_records"],
    },
  ];
  return defs.map((d) => ({ ...d, runbookAnchor: d.name.toLowerCase() }));
}

/** A Prometheus alerting rule as written to YAML. */
export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

/** A Prometheus recording rule as written to YAML. */
export interface RecordingRule {
  record: string;
  expr: string;
}

/** A Prometheus rule file: the alerts' group, then the recording rules'. */
export interface RuleFile {
  groups: [
    { name: string; interval: string; rules: AlertingRule[] },
    { name: string; interval: string; rules: RecordingRule[] },
  ];
}

/**
 * The recorded 7-day median of the last successful runs' records (by
 * pipeline), which EtlVolumeDrop compares with.
 *
 * @example
 * ```ts
 * recordingRules()[0]!.record === VOLUME_MEDIAN_RECORD; // true
 * ```
 */
export const VOLUME_MEDIAN_RECORD = "etl:last_successful_run_records:median_7d";

/**
 * Name of the recording rules' group.
 *
 * @example
 * ```ts
 * alertRules().groups[1]!.name === RECORDING_GROUP_NAME; // true
 * ```
 */
export const RECORDING_GROUP_NAME = "etl-recordings";

/**
 * The recording rules for `params`.
 *
 * @example
 * ```ts
 * recordingRules()[0]!.expr; // 'quantile_over_time(0.5, etl_last_successful_run_records{job="etl-metrics"}[7d])'
 * ```
 */
export function recordingRules(params: AlertParams = PRODUCTION_ALERT_PARAMS): RecordingRule[] {
  return [volumeMedianRule(`job=${quote(params.exporterJob)}`, params.volumeDrop.windowSeconds)];
}

/**
 * The {@linkcode VOLUME_MEDIAN_RECORD} rule over the series `selector` picks
 * (the rule file's and the mixin's).
 *
 * @example
 * ```ts
 * volumeMedianRule('job="etl-metrics"', 604_800).record === VOLUME_MEDIAN_RECORD; // true
 * ```
 */
export function volumeMedianRule(selector: string, windowSeconds: number): RecordingRule {
  return {
    record: VOLUME_MEDIAN_RECORD,
    expr: `quantile_over_time(0.5, etl_last_successful_run_records{${selector}}[${formatDuration(windowSeconds)}])`,
  };
}

/** Name of the rule group. */
export const RULE_GROUP_NAME = "etl-alerts";

/**
 * The rule file for `params` (production when omitted).
 *
 * @example
 * ```ts
 * alertRules().groups[0]!.rules[1]!.for; // "2m"
 * ```
 */
export function alertRules(params: AlertParams = PRODUCTION_ALERT_PARAMS): RuleFile {
  return {
    groups: [
      {
        name: RULE_GROUP_NAME,
        interval: formatDuration(params.evaluationIntervalSeconds),
        rules: alertDefinitions(params).map((a) => ({
          alert: a.name,
          expr: a.expr,
          for: formatDuration(a.forSeconds),
          labels: { severity: a.severity },
          annotations: {
            summary: toGoTemplate(a.summary),
            description: toGoTemplate(a.description),
            runbook_url: `${params.runbookUrl}#${a.runbookAnchor}`,
          },
        })),
      },
      { name: RECORDING_GROUP_NAME, interval: formatDuration(params.recordingIntervalSeconds), rules: recordingRules(params) },
    ],
  };
}

/**
 * YAML as the repository writes it: no line folding, so expressions and
 * annotations stay greppable.
 *
 * @example
 * ```ts
 * toYaml({ a: [1] }, "made by hand"); // "# made by hand\na:\n  - 1\n"
 * ```
 */
export function toYaml(data: unknown, header?: string): string {
  const body = stringify(data, { lineWidth: 0, indentSeq: true });
  const comment = header === undefined ? "" : header.split("\n").map((l) => (l === "" ? "#" : `# ${l}`)).join("\n") + "\n";
  return comment + body;
}

/**
 * The rule file's text, with a header saying where it comes from.
 *
 * @example
 * ```ts
 * alertRulesYaml().startsWith("# Generated"); // true
 * ```
 */
export function alertRulesYaml(params: AlertParams = PRODUCTION_ALERT_PARAMS): string {
  const header = params.speed === 1
    ? "Generated from lib/alerts/rules.ts by commands/build/rules.ts; do not edit.\nRunbook: docs/runbook.md. Unit tests: etl-alerts.test.yml (promtool test rules)."
    : `Generated from lib/alerts/rules.ts for a simulator running ${params.speed}x faster (scrape every ${params.scrapeIntervalSeconds} s).\nFOR THE LIVE TEST ONLY: thresholds and durations are scaled; never deploy this file.`;
  return toYaml(alertRules(params), header);
}
