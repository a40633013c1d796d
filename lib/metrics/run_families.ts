/**
 * The run and schedule families: runs by status, the run in progress, the
 * last run, the deadline from the catalog, and the pipeline's state. Built
 * like the other families from the state (and the catalog) at one moment.
 *
 * Series exist for every pipeline the logs or the catalog know; the run
 * counters of a cataloged pipeline start at 0 for every status.
 *
 * @example
 * ```ts
 * import { runFamilies } from "./run_families.ts";
 * import { createIngestState } from "../etl/state.ts";
 * runFamilies({ state: createIngestState(), nowMs: Date.now(), ready: true }).map((f) => f.name);
 * ```
 * @module
 */
import { describeSchedule } from "../catalog/schedule.ts";
import { knownPipelines, PIPELINE_STATES, pipelineKind, statusInSnapshot } from "../catalog/status.ts";
import { RUN_STATUSES } from "../etl/events.ts";
import { RUN_DURATION_BUCKETS_SECONDS, unmatchedFinishes } from "../etl/runs.ts";
import type { Snapshot } from "../etl/snapshot.ts";
import { allFamilies, counterFamily, type Family, gaugeFamily, histogramFamily, type PerPipelineFamilies, pushHistogramSamples } from "./family.ts";

/** Builds the run families of a snapshot. */
export function runFamilies(snapshot: Snapshot): Family[] {
  return [...allFamilies(runPipelineFamilies(snapshot)), ...runGlobalFamilies(snapshot)];
}

// Indexes into the families below, in their order.
const TOTALS = 0, RESTARTED = 1, UNMATCHED = 2, IN_PROGRESS = 3, BETWEEN_RUNS = 4, DURATIONS = 5, LAST_START = 6,
  LAST_FINISHED = 7, LAST_RECORDS = 8, LAST_DURATION = 9, LAST_STATUS = 10, LAST_SUCCESS = 11, LAST_SUCCESS_RECORDS = 12,
  DEADLINE = 13, INTERVAL = 14, MAX_DURATION = 15, MIN_RECORDS = 16, STATES = 17, INFO = 18;

/**
 * The run families of a snapshot, pipeline by pipeline (see {@linkcode PerPipelineFamilies}).
 * Only the pipeline's state reads the clock, and the deadline of a pipeline seen neither in
 * the logs nor since a catalog's loading (it counts from now): {@linkcode countsFromNow}.
 */
export function runPipelineFamilies(snapshot: Snapshot): PerPipelineFamilies {
  const heads = [
    counterFamily("etl_runs_total", "Finished runs by status (a run cut short by the next etl_started counts as failed).", []),
    counterFamily("etl_runs_restarted_total", "Runs closed by the next etl_started of their pipeline (also counted in etl_runs_total as failed).", []),
    counterFamily("etl_runs_unmatched_finishes_total", "etl_finished events with no run in progress: counted, otherwise ignored.", []),
    gaugeFamily("etl_runs_in_progress", "1 while a run (etl_started without its etl_finished yet) is in progress.", []),
    gaugeFamily(
      "etl_pipeline_between_runs",
      "1 when the last run finished and none is in progress: the always-on alerts hold off.",
      [],
    ),
    histogramFamily("etl_run_duration_seconds", "Duration of finished runs.", RUN_DURATION_BUCKETS_SECONDS, []),
    gaugeFamily("etl_last_run_start_timestamp_seconds", "Unix time the newest run started (the one in progress, if any).", []),
    gaugeFamily("etl_last_run_finished_timestamp_seconds", "Unix time the last finished run ended.", []),
    gaugeFamily("etl_last_run_records", "Records of the last finished run.", []),
    gaugeFamily("etl_last_run_duration_seconds", "Duration of the last finished run.", []),
    gaugeFamily("etl_last_run_status", "1 for the status of the last finished run, 0 for the others.", []),
    gaugeFamily("etl_last_successful_run_timestamp_seconds", "Unix time the last successful run ended (freshness).", []),
    gaugeFamily("etl_last_successful_run_records", "Records of the last successful run.", []),
    gaugeFamily(
      "etl_deadline_timestamp_seconds",
      "Unix time by which the next successful run is due: the first scheduled time after the last success, plus grace.",
      [],
    ),
    gaugeFamily("etl_schedule_interval_seconds", "Seconds between the run that is due and the one after it.", []),
    gaugeFamily("etl_pipeline_max_run_duration_seconds", "The catalog's max_run_duration: a longer run in progress is hung.", []),
    gaugeFamily("etl_pipeline_min_records", "The catalog's min_records: a successful run with fewer is empty.", []),
    gaugeFamily("etl_pipeline_state", `1 for the pipeline's state (${PIPELINE_STATES.join(", ")}), 0 for the others.`, []),
    gaugeFamily("etl_pipeline_info", "1 per pipeline, with its kind, schedule and the catalog's labels.", []),
  ];
  return {
    heads,
    clock: heads.map((_, i) => i === STATES),
    names: knownPipelines(snapshot),
    samples(name, out) {
      const labels = { pipeline: name };
      const { runs, entry, status } = statusInSnapshot(snapshot, name);
      const states = out[STATES];
      if (states !== undefined) for (const s of PIPELINE_STATES) states.push({ labels: { pipeline: name, state: s }, value: status.state === s ? 1 : 0 });
      const kind = pipelineKind(entry, runs);
      out[INFO]?.push({ labels: { ...(entry?.labels ?? {}), pipeline: name, kind, schedule: entry ? describeSchedule(entry) : "" }, value: 1 });
      if (status.deadline !== null) {
        out[DEADLINE]?.push({ labels, value: status.deadline.deadlineMs / 1000 });
        out[INTERVAL]?.push({ labels, value: status.deadline.intervalMs / 1000 });
      }
      if (entry?.maxRunDurationMs != null) out[MAX_DURATION]?.push({ labels, value: entry.maxRunDurationMs / 1000 });
      if (entry?.minRecords != null) out[MIN_RECORDS]?.push({ labels, value: entry.minRecords });
      if (runs === undefined && entry === undefined) return;

      const totals = out[TOTALS];
      if (totals !== undefined) for (const s of RUN_STATUSES) totals.push({ labels: { pipeline: name, status: s }, value: runs?.statusCounts[s] ?? 0 });
      out[RESTARTED]?.push({ labels, value: runs?.restartedTotal ?? 0 });
      out[UNMATCHED]?.push({ labels, value: runs === undefined ? 0 : unmatchedFinishes(runs) });
      out[IN_PROGRESS]?.push({ labels, value: runs?.open != null ? 1 : 0 });
      out[BETWEEN_RUNS]?.push({ labels, value: runs?.open == null && runs?.last != null ? 1 : 0 });
      const durations = out[DURATIONS];
      if (durations !== undefined) {
        pushHistogramSamples(heads[DURATIONS]!.name, RUN_DURATION_BUCKETS_SECONDS, {
          labels,
          bucketCounts: runs?.durationBucketCounts ?? new Array(RUN_DURATION_BUCKETS_SECONDS.length + 1).fill(0),
          sum: (runs?.durationSumMs ?? 0) / 1000,
          count: runs === undefined ? 0 : Object.values(runs.statusCounts).reduce((a, b) => a + b, 0),
        }, durations);
      }
      const startMs = runs?.open?.startMs ?? runs?.last?.startMs;
      if (startMs !== undefined) out[LAST_START]?.push({ labels, value: startMs / 1000 });
      const last = runs?.last ?? null;
      if (last !== null) {
        out[LAST_FINISHED]?.push({ labels, value: last.finishedMs / 1000 });
        out[LAST_RECORDS]?.push({ labels, value: last.records });
        out[LAST_DURATION]?.push({ labels, value: last.durationMs / 1000 });
        const lastStatus = out[LAST_STATUS];
        if (lastStatus !== undefined) for (const s of RUN_STATUSES) lastStatus.push({ labels: { pipeline: name, status: s }, value: last.status === s ? 1 : 0 });
      }
      const success = runs?.lastSuccess ?? null;
      if (success !== null) {
        out[LAST_SUCCESS]?.push({ labels, value: success.finishedMs / 1000 });
        out[LAST_SUCCESS_RECORDS]?.push({ labels, value: success.records });
      }
    },
  };
}

/**
 * A pipeline whose deadline counts from the clock: in the catalog, not in the logs, and no
 * catalog loading time given (the exporter always gives one).
 */
export function countsFromNow(snapshot: Snapshot, name: string): boolean {
  return snapshot.catalogLoadedAtMs === undefined && !Object.hasOwn(snapshot.state.pipelines, name);
}

/** The run families that are not per pipeline, after those that are. */
export function runGlobalFamilies(snapshot: Snapshot): Family[] {
  // The exporter's own, beside the state it is about (absent when the simulator serves).
  return snapshot.exporter?.pipelinesRetired === undefined ? [] : [
    counterFamily(
      "etl_exporter_pipelines_retired_total",
      "Pipelines left out of /metrics and /health: not in the catalog and silent for --retire-after.",
      [{ labels: {}, value: snapshot.exporter.pipelinesRetired }],
    ),
  ];
}
