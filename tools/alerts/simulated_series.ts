/**
 * What Prometheus would scrape from the exporter while the simulator runs:
 * the real engine plans events, the real reducer folds them, the real metric
 * families are read at every scrape time, without clocks, files or sockets.
 * The series feed the generated promtool tests ("nothing fires in normal
 * running", "each scenario trips its alert") and the threshold checks.
 *
 * Time starts at 0 (the Unix epoch), as in promtool's input series, so
 * timestamp gauges and `time()` agree.
 *
 * @example
 * ```ts
 * import { simulateScrapes } from "./simulated_series.ts";
 * const set = await simulateScrapes({
 *   pipelines: [{ name: "orders", seed: 1 }, { name: "customers", seed: 2 }],
 *   durationSeconds: 3600,
 *   scrapeIntervalSeconds: 15,
 * });
 * set.series.length; // the series the alert rules read, per pipeline, plus `up`
 * ```
 * @module
 */
import { createEventEmitter } from "../../lib/etl/emitter.ts";
import type { EtlEvent } from "../../lib/etl/events.ts";
import { etlFamilies } from "../../lib/metrics/etl_families.ts";
import { runFamilies } from "../../lib/metrics/run_families.ts";
import { foldEvent } from "../../lib/etl/reducer.ts";
import type { PlannedEvent } from "../../lib/simulator/engine.ts";
import { type BatchEngine, type BatchProfile, createBatchEngine } from "../../lib/simulator/batch.ts";
import type { Catalog } from "../../lib/catalog/entry.ts";
import { DEFAULT_PROFILE, type Profile, type Scenario } from "../../lib/simulator/profile.ts";
import { createRandom } from "../../lib/simulator/random.ts";
import { createSchedule, type Schedule } from "../../lib/simulator/schedule.ts";
import { createIngestState } from "../../lib/etl/state.ts";
import type { InputSeries, SampleValue, SeriesSet } from "./model.ts";
import { alertDefinitions, PRODUCTION_ALERT_PARAMS } from "../../lib/alerts/rules.ts";

/** One simulated pipeline. */
export interface SimulatedPipeline {
  name: string;
  seed: number;
  /** The default profile when absent. */
  profile?: Profile;
  /**
   * Behaviour from `switchAtSeconds` on (before it: the profile). `stall`
   * stops this pipeline's events; `crash` is process-wide, see
   * {@linkcode SimulateOptions.crashAtSeconds}.
   */
  scenario?: Exclude<Scenario, "crash">;
  switchAtSeconds?: number;
  /** A batch job with this profile instead of an always-on process (`profile` is then unused). */
  batch?: BatchProfile;
}

/** Options of {@linkcode simulateScrapes}. */
export interface SimulateOptions {
  pipelines: readonly SimulatedPipeline[];
  durationSeconds: number;
  scrapeIntervalSeconds: number;
  /** `ETL_SPEED`; 1 when absent. */
  speed?: number;
  /**
   * The simulator process exits then (the `crash` scenario): every
   * pipeline stops and the simulator's `up` turns 0; the exporter still
   * serves what it read.
   */
  crashAtSeconds?: number;
  exporterJob?: string;
  simulatorJob?: string;
  exporterInstance?: string;
  simulatorInstance?: string;
  /** Metric names to keep; by default those the alert rules read. */
  metrics?: readonly string[];
  /** The exporter's pipeline catalog (loaded at time 0). */
  catalog?: Catalog;
}

/**
 * The metrics the production rules read (`up` is made separately).
 *
 * @example
 * ```ts
 * ruleInputMetrics().includes("etl_health_status"); // true
 * ```
 */
export function ruleInputMetrics(): string[] {
  return [...new Set(alertDefinitions(PRODUCTION_ALERT_PARAMS).flatMap((a) => a.metrics))].filter((m) => m !== "up");
}

interface Lane {
  pipeline: SimulatedPipeline;
  schedule: Pick<Schedule, "takeDue" | "setScenario">;
  /** Writes an event as the exporter would read it, stamped with the time it was due. */
  emit: (event: PlannedEvent) => EtlEvent;
  switchPending: boolean;
  stopped: boolean;
}

// A batch job's engine stepped like a schedule: a stall stops it (the process hangs to the end).
function batchSchedule(engine: BatchEngine): Pick<Schedule, "takeDue" | "setScenario"> {
  let stalled = false;
  return {
    takeDue(untilMs, { before = false } = {}) {
      const due: Array<{ event: PlannedEvent }> = [];
      while (!stalled && (before ? engine.peekMs() < untilMs : engine.peekMs() <= untilMs)) due.push({ event: engine.next() });
      return due as ReturnType<Schedule["takeDue"]>;
    },
    setScenario(scenario, atMs) {
      if (scenario === "stall") stalled = true;
      else engine.setScenario(scenario, atMs);
    },
  };
}

function createLane(pipeline: SimulatedPipeline, speed: number): Lane {
  let dueMs = 0;
  const emitter = createEventEmitter({ pipeline: pipeline.name, runId: `sim-${pipeline.seed}`, clock: () => dueMs, write: () => {} });
  return {
    pipeline,
    schedule: pipeline.batch
      ? batchSchedule(createBatchEngine({ profile: pipeline.batch, random: createRandom(pipeline.seed), startMs: 0, speed }))
      : createSchedule([{ pipeline: pipeline.name, profile: pipeline.profile ?? DEFAULT_PROFILE, seed: pipeline.seed }], { startMs: 0, speed }),
    emit: ({ atMs, ...body }) => {
      dueMs = atMs;
      return emitter.emit(body);
    },
    switchPending: pipeline.scenario !== undefined,
    stopped: false,
  };
}

/**
 * Simulates the pipelines and samples the exporter's series (and `up` of
 * both jobs) every scrape interval from 0 to `durationSeconds`.
 *
 * @example
 * ```ts
 * const stalled = await simulateScrapes({
 *   pipelines: [{ name: "orders", seed: 1, scenario: "stall", switchAtSeconds: 600 }],
 *   durationSeconds: 1800,
 *   scrapeIntervalSeconds: 15,
 * });
 * ```
 */
export async function simulateScrapes(options: SimulateOptions): Promise<SeriesSet> {
  const g = options.scrapeIntervalSeconds;
  const steps = Math.floor(options.durationSeconds / g + 1e-9);
  const speed = options.speed ?? 1;
  const exporterJob = options.exporterJob ?? PRODUCTION_ALERT_PARAMS.exporterJob;
  const simulatorJob = options.simulatorJob ?? PRODUCTION_ALERT_PARAMS.simulatorJob;
  const exporterInstance = options.exporterInstance ?? "etl-metrics:8083";
  const simulatorInstance = options.simulatorInstance ?? "etl-simulator:8000";
  const keep = new Set(options.metrics ?? ruleInputMetrics());
  const crashMs = options.crashAtSeconds === undefined ? Infinity : options.crashAtSeconds * 1000;

  const state = createIngestState();
  const lanes = options.pipelines.map((pipeline) => createLane(pipeline, speed));

  // The events due by `nowMs`; the switch of a lane's scenario and the crash cut its run where they fall.
  const runUntil = (lane: Lane, nowMs: number) => {
    while (!lane.stopped) {
      const switchMs = lane.switchPending ? (lane.pipeline.switchAtSeconds ?? 0) * 1000 : Infinity;
      const limitMs = Math.min(switchMs, crashMs);
      if (limitMs > nowMs) {
        for (const { event } of lane.schedule.takeDue(nowMs)) foldEvent(state, lane.emit(event));
        return;
      }
      for (const { event } of lane.schedule.takeDue(limitMs, { before: true })) foldEvent(state, lane.emit(event));
      if (switchMs <= crashMs) {
        lane.switchPending = false;
        lane.schedule.setScenario(lane.pipeline.scenario!, switchMs);
        if (switchMs < crashMs) continue;
      }
      lane.stopped = true;
    }
  };

  const series = new Map<string, { name: string; labels: Record<string, string>; values: SampleValue[] }>();
  const put = (name: string, labels: Record<string, string>, step: number, v: number) => {
    const key = name + JSON.stringify(labels);
    let s = series.get(key);
    if (!s) {
      s = { name, labels, values: new Array<SampleValue>(steps + 1).fill(null) };
      series.set(key, s);
    }
    s.values[step] = v;
  };

  for (let step = 0; step <= steps; step++) {
    const nowMs = Math.round(step * g * 1000);
    for (const lane of lanes) runUntil(lane, nowMs);
    put("up", { job: exporterJob, instance: exporterInstance }, step, 1);
    put("up", { job: simulatorJob, instance: simulatorInstance }, step, nowMs >= crashMs ? 0 : 1);
    const catalog = options.catalog ? { catalog: options.catalog, catalogLoadedAtMs: 0 } : {};
    for (const family of [...etlFamilies(state, nowMs), ...runFamilies({ state, nowMs, ready: true, ...catalog })]) {
      const { values } = family;
      for (const sample of values) {
        const name = sample.metricName ?? family.name;
        if (!keep.has(name)) continue;
        const labels: Record<string, string> = { job: exporterJob, instance: exporterInstance };
        for (const [k, v] of Object.entries(sample.labels)) labels[k] = String(v);
        put(name, labels, step, sample.value);
      }
    }
  }
  return { intervalSeconds: g, series: [...series.values()] satisfies InputSeries[] };
}
