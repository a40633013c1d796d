/**
 * What each alert expression computes, modelled in TypeScript on the exact
 * semantics of Prometheus 2.x (Debian's 2.42): closed range selectors
 * `[t-w, t]`, `rate`/`increase` extrapolation, `histogram_quantile`'s
 * bucket interpolation, `absent`, and `for` (pending, then firing once
 * `t - activeAt >= for`).
 *
 * Why a model: the promtool unit tests are generated, and a generator must
 * know when an alert will fire to write "not at T-15s, at T". The model
 * predicts; promtool, running the real rules on the same series, confirms
 * every prediction. The model also checks thresholds against days of
 * simulated scrapes in milliseconds, where promtool would take minutes.
 *
 * It restates each expression of `lib/alerts/rules.ts` on purpose: an
 * independent oracle, written apart from the PromQL, whose predictions
 * promtool's results are checked against (a rule changed in one place and
 * not the other fails `tools/alerts/rule_tests.test.ts`). Thresholds,
 * windows and `for` durations are not restated: they come from the rules'
 * `AlertParams`.
 *
 * Prometheus 3 selects ranges left-open `(t-w, t]`, which moves the
 * onset of rate-based alerts by one step; these tests target Prometheus 2.
 *
 * @example
 * ```ts
 * import { evaluateAlerts } from "./model.ts";
 * import { PRODUCTION_ALERT_PARAMS } from "../../lib/alerts/rules.ts";
 * const series = { intervalSeconds: 15, series: [{ name: "up", labels: { job: "etl-metrics", instance: "x" }, values: [0, 0, 0, 0, 0] }] };
 * evaluateAlerts(PRODUCTION_ALERT_PARAMS, series, 60).filter((e) => e.firingAt !== null).length; // 2 (one absent job too)
 * ```
 * @module
 */
import { ALERT_NAMES, type AlertName, type AlertParams, alertDefinitions, type Severity } from "../../lib/alerts/rules.ts";

/** A sample: a number, no sample at that step (`null`), or a staleness marker. */
export type SampleValue = number | null | "stale";

/** One series as scraped: `values[i]` is the sample at `i * intervalSeconds`. */
export interface InputSeries {
  name: string;
  labels: Readonly<Record<string, string>>;
  values: readonly SampleValue[];
}

/** Series sampled on one grid starting at time 0 (as promtool's input series are). */
export interface SeriesSet {
  intervalSeconds: number;
  series: readonly InputSeries[];
}

/** A result of an expression: labels without `__name__`, and a value. */
export interface ModelSample {
  labels: Record<string, string>;
  value: number;
}

/** One stretch during which an alert's condition held for one label set. */
export interface AlertEpisode {
  alert: AlertName;
  /** The alert's labels: those of the series, `severity` and `alertname`. */
  labels: Record<string, string>;
  /** First evaluation (seconds) where the condition held. */
  activeAt: number;
  /** First evaluation where the alert fired, `null` if it stayed pending. */
  firingAt: number | null;
  /** The expression's value at `firingAt`. */
  valueAtFiring: number | null;
  /** First evaluation where the condition no longer held, `null` if it still held at the end. */
  endedAt: number | null;
}

/** Prometheus's default lookback for instant selectors. */
const LOOKBACK_SECONDS = 300;
const EPSILON = 1e-9;

function timeOf(set: SeriesSet, index: number): number {
  return index * set.intervalSeconds;
}

/** Latest sample at or before `t` within the lookback; stale or none gives `undefined`. */
function instant(set: SeriesSet, s: InputSeries, t: number): number | undefined {
  const last = Math.min(Math.floor(t / set.intervalSeconds + EPSILON), s.values.length - 1);
  for (let i = last; i >= 0 && timeOf(set, i) >= t - LOOKBACK_SECONDS - EPSILON; i--) {
    const v = s.values[i];
    if (v === null || v === undefined) continue;
    return v === "stale" ? undefined : v;
  }
  return undefined;
}

/** Samples in the closed range `[t-w, t]`, staleness markers dropped. */
function range(set: SeriesSet, s: InputSeries, t: number, w: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const first = Math.max(0, Math.ceil((t - w) / set.intervalSeconds - EPSILON));
  const last = Math.min(Math.floor(t / set.intervalSeconds + EPSILON), s.values.length - 1);
  for (let i = first; i <= last; i++) {
    const v = s.values[i];
    if (typeof v === "number") out.push([timeOf(set, i), v]);
  }
  return out;
}

/**
 * Prometheus 2.x `extrapolatedRate` for counters: `increase` when
 * `isRate` is false, `rate` when true; `undefined` under two samples.
 * Times are seconds, computed on whole milliseconds as Prometheus does, so
 * the result agrees to the last bit (annotations print it).
 *
 * @example
 * ```ts
 * extrapolatedRate([[0, 0], [15, 10], [30, 20]], 30, 30, false); // 20
 * ```
 */
export function extrapolatedRate(points: ReadonlyArray<readonly [number, number]>, t: number, w: number, isRate: boolean): number | undefined {
  if (points.length < 2) return undefined;
  const ms = (seconds: number) => Math.round(seconds * 1000);
  const [firstT, firstV] = points[0]!;
  const [lastT, lastV] = points[points.length - 1]!;
  let result = lastV - firstV;
  let previous = 0;
  for (const [, v] of points) {
    if (v < previous) result += previous;
    previous = v;
  }
  const rangeEnd = ms(t);
  const rangeStart = rangeEnd - ms(w);
  let durationToStart = (ms(firstT) - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - ms(lastT)) / 1000;
  const sampledInterval = (ms(lastT) - ms(firstT)) / 1000;
  const average = sampledInterval / (points.length - 1);
  if (result > 0 && firstV >= 0) {
    const durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = average * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : average / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : average / 2;
  // In this order, as Prometheus does: the factor first (1/w is not exact,
  // and annotations print the last digit). Go's Duration.Seconds() for w.
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= Math.floor(ms(w) / 1000) + ((ms(w) % 1000) * 1e6) / 1e9;
  return result * factor;
}

/**
 * Prometheus 2.x `bucketQuantile`: `buckets` are (upper bound, cumulative
 * count) pairs, `+Inf` included.
 *
 * @example
 * ```ts
 * bucketQuantile(0.5, [[10, 50], [20, 100], [Infinity, 100]]); // 10
 * ```
 */
export function bucketQuantile(q: number, buckets: ReadonlyArray<readonly [number, number]>): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  if (sorted.length < 2 || sorted[sorted.length - 1]![0] !== Infinity) return NaN;
  let max = -Infinity;
  const b = sorted.map(([le, c]) => {
    max = Math.max(max, c);
    return [le, max] as const;
  });
  const observations = b[b.length - 1]![1];
  if (observations === 0) return NaN;
  let rank = q * observations;
  let i = 0;
  while (i < b.length - 1 && !(b[i]![1] >= rank)) i++;
  if (i === b.length - 1) return b[b.length - 2]![0];
  if (i === 0 && b[0]![0] <= 0) return b[0]![0];
  let start = 0;
  let count = b[i]![1];
  if (i > 0) {
    start = b[i - 1]![0];
    count -= b[i - 1]![1];
    rank -= b[i - 1]![1];
  }
  return start + (b[i]![0] - start) * (rank / count);
}

function select(set: SeriesSet, name: string, match: Readonly<Record<string, string>>): InputSeries[] {
  return set.series.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** Prometheus's `quantile_over_time`: linear interpolation between the sorted samples. */
export function quantileOf(q: number, values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(sorted.length - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/** The series of the exporter's job and instance for a pipeline, as `on(job, instance, pipeline)` matches them. */
function pipelineKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify([labels.job ?? "", labels.instance ?? "", labels.pipeline ?? ""]);
}

/** Instant values of `name` (matching `match`) at `t`, by {@linkcode pipelineKey}. */
function byPipeline(set: SeriesSet, name: string, match: Readonly<Record<string, string>>, t: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of select(set, name, match)) {
    const v = instant(set, s, t);
    if (v !== undefined) out.set(pipelineKey(s.labels), v);
  }
  return out;
}

/** `expr unless on(job, instance, pipeline) etl_pipeline_between_runs == 1`. */
function unlessBetweenRuns(set: SeriesSet, params: AlertParams, t: number, samples: ModelSample[]): ModelSample[] {
  const between = byPipeline(set, "etl_pipeline_between_runs", { job: params.exporterJob }, t);
  return samples.filter((sample) => between.get(pipelineKey(sample.labels)) !== 1);
}

/**
 * The always-on alerts' guard for batch pipelines: a run that started `young` ago
 * is not judged yet (between runs, `unlessBetweenRuns` already holds them off).
 */
function unlessYoungBatchRun(set: SeriesSet, params: AlertParams, t: number, samples: ModelSample[], young: (ageSeconds: number) => boolean): ModelSample[] {
  const job = { job: params.exporterJob };
  const started = byPipeline(set, "etl_last_run_start_timestamp_seconds", job, t);
  const batch = new Set<string>();
  for (const s of select(set, "etl_pipeline_info", { ...job, kind: "batch" })) if (instant(set, s, t) !== undefined) batch.add(pipelineKey(s.labels));
  return unlessBetweenRuns(set, params, t, samples).filter((sample) => {
    const key = pipelineKey(sample.labels);
    const start = started.get(key);
    return !(start !== undefined && young(t - start) && batch.has(key));
  });
}

/**
 * The value of one alert's expression at `t`, one sample per resulting
 * series (before the comparison filters nothing: only matching samples).
 * `severity` tells the two rules of an alert written twice apart.
 *
 * @example
 * ```ts
 * evaluateExpression("EtlHealthCheckFailed", PRODUCTION_ALERT_PARAMS, set, 120);
 * ```
 */
export function evaluateExpression(alert: AlertName, params: AlertParams, set: SeriesSet, t: number, severity?: Severity): ModelSample[] {
  const job = { job: params.exporterJob };
  const out: ModelSample[] = [];
  switch (alert) {
    case "EtlNoSuccessIn10Minutes":
      // `unless` a batch run no older than the threshold.
      return unlessYoungBatchRun(set, params, t, alwaysOnExpression(alert, params, set, t), (age) => age <= params.noSuccess.thresholdSeconds);
    case "EtlLowThroughput":
      // `unless` a batch run younger than the window.
      return unlessYoungBatchRun(set, params, t, alwaysOnExpression(alert, params, set, t), (age) => age < params.lowThroughput.windowSeconds);
    case "EtlHighFailureRate":
    case "EtlSlowProcessing":
      return unlessBetweenRuns(set, params, t, alwaysOnExpression(alert, params, set, t));
    case "EtlPipelineLate": {
      const interval = byPipeline(set, "etl_schedule_interval_seconds", job, t);
      for (const s of select(set, "etl_deadline_timestamp_seconds", job)) {
        const v = instant(set, s, t);
        if (v === undefined) continue;
        const limit = severity === "critical" ? interval.get(pipelineKey(s.labels)) : 0;
        if (limit !== undefined && t - v > limit) out.push({ labels: { ...s.labels }, value: t - v });
      }
      return out;
    }
    case "EtlRunFailed": {
      const batch = new Set<string>();
      for (const s of select(set, "etl_pipeline_info", { ...job, kind: "batch" })) if (instant(set, s, t) !== undefined) batch.add(pipelineKey(s.labels));
      for (const s of select(set, "etl_last_run_status", { ...job, status: "failed" })) {
        const v = instant(set, s, t);
        if (v === 1 && batch.has(pipelineKey(s.labels))) out.push({ labels: { ...s.labels }, value: v });
      }
      return out;
    }
    case "EtlRunTooLong": {
      const max = byPipeline(set, "etl_pipeline_max_run_duration_seconds", job, t);
      const open = byPipeline(set, "etl_runs_in_progress", job, t);
      for (const s of select(set, "etl_last_run_start_timestamp_seconds", job)) {
        const v = instant(set, s, t);
        const key = pipelineKey(s.labels);
        const limit = max.get(key);
        if (v !== undefined && limit !== undefined && t - v > limit && open.get(key) === 1) out.push({ labels: { ...s.labels }, value: t - v });
      }
      return out;
    }
    case "EtlEmptyRun": {
      const min = byPipeline(set, "etl_pipeline_min_records", job, t);
      for (const s of select(set, "etl_last_successful_run_records", job)) {
        const v = instant(set, s, t);
        const limit = min.get(pipelineKey(s.labels));
        if (v !== undefined && limit !== undefined && v < limit) out.push({ labels: { ...s.labels }, value: v });
      }
      return out;
    }
    case "EtlVolumeDrop": {
      const { windowSeconds: w, ratio } = params.volumeDrop;
      for (const s of select(set, "etl_last_successful_run_records", job)) {
        const v = instant(set, s, t);
        const points = range(set, s, t, w).map(([, x]) => x);
        if (v !== undefined && points.length > 0 && v < ratio * quantileOf(0.5, points)) out.push({ labels: { ...s.labels }, value: v });
      }
      return out;
    }
    default:
      return alwaysOnExpression(alert, params, set, t);
  }
}

/** The six alerts of the always-on pipeline, before the between-runs exclusion. */
function alwaysOnExpression(alert: AlertName, params: AlertParams, set: SeriesSet, t: number): ModelSample[] {
  const job = { job: params.exporterJob };
  const out: ModelSample[] = [];
  switch (alert) {
    case "EtlMetricsEndpointDown": {
      for (const j of [params.exporterJob, params.simulatorJob]) {
        let present = false;
        for (const s of select(set, "up", { job: j })) {
          const v = instant(set, s, t);
          if (v === undefined) continue;
          present = true;
          if (v === 0) out.push({ labels: { ...s.labels }, value: v });
        }
        if (!present) out.push({ labels: { job: j }, value: 1 });
      }
      return out;
    }
    case "EtlHealthCheckFailed":
      for (const s of select(set, "etl_health_status", job)) {
        const v = instant(set, s, t);
        if (v === 0) out.push({ labels: { ...s.labels }, value: v });
      }
      return out;
    case "EtlNoSuccessIn10Minutes":
      for (const s of select(set, "etl_last_success_timestamp_seconds", job)) {
        const v = instant(set, s, t);
        if (v !== undefined && t - v > params.noSuccess.thresholdSeconds) out.push({ labels: { ...s.labels }, value: t - v });
      }
      return out;
    case "EtlHighFailureRate": {
      const { windowSeconds: w, threshold } = params.highFailureRate;
      for (const s of select(set, "etl_failures_total", job)) {
        const v = extrapolatedRate(range(set, s, t, w), t, w, false);
        if (v !== undefined && v > threshold) out.push({ labels: { ...s.labels }, value: v });
      }
      return out;
    }
    case "EtlLowThroughput": {
      const { windowSeconds: w, threshold } = params.lowThroughput;
      for (const s of select(set, "etl_records_total", job)) {
        const v = extrapolatedRate(range(set, s, t, w), t, w, true);
        if (v !== undefined && v < threshold) out.push({ labels: { ...s.labels }, value: v });
      }
      return out;
    }
    case "EtlSlowProcessing": {
      const { windowSeconds: w, thresholdSeconds, quantile } = params.slowProcessing;
      const groups = new Map<string, { labels: Record<string, string>; buckets: Array<[number, number]> }>();
      for (const s of select(set, "etl_file_processing_duration_seconds_bucket", job)) {
        const rate = extrapolatedRate(range(set, s, t, w), t, w, true);
        if (rate === undefined) continue;
        const { le, ...rest } = s.labels;
        const key = JSON.stringify(Object.entries(rest).sort());
        const group = groups.get(key) ?? { labels: rest, buckets: [] };
        group.buckets.push([le === "+Inf" ? Infinity : Number(le), rate]);
        groups.set(key, group);
      }
      for (const { labels, buckets } of groups.values()) {
        const v = bucketQuantile(quantile, buckets);
        if (v > thresholdSeconds) out.push({ labels, value: v });
      }
      return out;
    }
    default:
      throw new Error(`model: ${alert} is not an always-on alert`);
  }
}

/**
 * Runs every alert (or those named) over `[0, horizonSeconds]` at the
 * parameters' evaluation interval and returns each pending stretch.
 *
 * @example
 * ```ts
 * const episodes = evaluateAlerts(PRODUCTION_ALERT_PARAMS, set, 3600);
 * episodes.filter((e) => e.firingAt !== null).map((e) => [e.alert, e.labels.pipeline, e.firingAt]);
 * ```
 */
export function evaluateAlerts(
  params: AlertParams,
  set: SeriesSet,
  horizonSeconds: number,
  only: readonly AlertName[] = ALERT_NAMES,
): AlertEpisode[] {
  const defs = alertDefinitions(params).filter((d) => only.includes(d.name));
  const step = params.evaluationIntervalSeconds;
  const done: AlertEpisode[] = [];
  const active = new Map<string, AlertEpisode>();
  for (let k = 0; k * step <= horizonSeconds + EPSILON; k++) {
    const t = Number((k * step).toFixed(6));
    const seen = new Set<string>();
    for (const def of defs) {
      for (const sample of evaluateExpression(def.name, params, set, t, def.severity)) {
        const labels = { ...sample.labels, alertname: def.name, severity: def.severity };
        const key = JSON.stringify(Object.entries(labels).sort());
        seen.add(key);
        let episode = active.get(key);
        if (!episode) {
          episode = { alert: def.name, labels, activeAt: t, firingAt: null, valueAtFiring: null, endedAt: null };
          active.set(key, episode);
        }
        if (episode.firingAt === null && t - episode.activeAt >= def.forSeconds - EPSILON) {
          episode.firingAt = t;
          episode.valueAtFiring = sample.value;
        }
      }
    }
    for (const [key, episode] of active) {
      if (seen.has(key)) continue;
      episode.endedAt = t;
      done.push(episode);
      active.delete(key);
    }
  }
  return [...done, ...active.values()].sort((a, b) => a.activeAt - b.activeAt || a.alert.localeCompare(b.alert));
}

/**
 * Whether `episode` is firing at `t`.
 *
 * @example
 * ```ts
 * firingAt({ firingAt: 120, endedAt: null } as AlertEpisode, 120); // true
 * ```
 */
export function firingAt(episode: Pick<AlertEpisode, "firingAt" | "endedAt">, t: number): boolean {
  return episode.firingAt !== null && episode.firingAt <= t + EPSILON && (episode.endedAt === null || t < episode.endedAt - EPSILON);
}
