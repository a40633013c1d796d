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
import { counterFamily, type Family, gaugeFamily, histogramFamily, type HistogramSeries, type Sample } from "./family.ts";

/** Builds the run families of a snapshot. */
export function runFamilies(snapshot: Snapshot): Family[] {
  const totals: Sample[] = [];
  const restarted: Sample[] = [];
  const unmatched: Sample[] = [];
  const inProgress: Sample[] = [];
  const durations: HistogramSeries[] = [];
  const lastStart: Sample[] = [];
  const lastFinished: Sample[] = [];
  const lastRecords: Sample[] = [];
  const lastDuration: Sample[] = [];
  const lastStatus: Sample[] = [];
  const lastSuccess: Sample[] = [];
  const lastSuccessRecords: Sample[] = [];
  const deadline: Sample[] = [];
  const interval: Sample[] = [];
  const maxDuration: Sample[] = [];
  const minRecords: Sample[] = [];
  const betweenRuns: Sample[] = [];
  const states: Sample[] = [];
  const info: Sample[] = [];

  for (const name of knownPipelines(snapshot)) {
    const labels = { pipeline: name };
    const { runs, entry, status } = statusInSnapshot(snapshot, name);
    for (const s of PIPELINE_STATES) states.push({ labels: { pipeline: name, state: s }, value: status.state === s ? 1 : 0 });
    const kind = pipelineKind(entry, runs);
    info.push({ labels: { ...(entry?.labels ?? {}), pipeline: name, kind, schedule: entry ? describeSchedule(entry) : "" }, value: 1 });
    if (status.deadline !== null) {
      deadline.push({ labels, value: status.deadline.deadlineMs / 1000 });
      interval.push({ labels, value: status.deadline.intervalMs / 1000 });
    }
    if (entry?.maxRunDurationMs != null) maxDuration.push({ labels, value: entry.maxRunDurationMs / 1000 });
    if (entry?.minRecords != null) minRecords.push({ labels, value: entry.minRecords });
    if (runs === undefined && entry === undefined) continue;

    for (const s of RUN_STATUSES) totals.push({ labels: { pipeline: name, status: s }, value: runs?.statusCounts[s] ?? 0 });
    restarted.push({ labels, value: runs?.restartedTotal ?? 0 });
    unmatched.push({ labels, value: runs === undefined ? 0 : unmatchedFinishes(runs) });
    inProgress.push({ labels, value: runs?.open != null ? 1 : 0 });
    betweenRuns.push({ labels, value: runs?.open == null && runs?.last != null ? 1 : 0 });
    durations.push({
      labels,
      bucketCounts: runs?.durationBucketCounts ?? new Array(RUN_DURATION_BUCKETS_SECONDS.length + 1).fill(0),
      sum: (runs?.durationSumMs ?? 0) / 1000,
      count: runs === undefined ? 0 : Object.values(runs.statusCounts).reduce((a, b) => a + b, 0),
    });
    const startMs = runs?.open?.startMs ?? runs?.last?.startMs;
    if (startMs !== undefined) lastStart.push({ labels, value: startMs / 1000 });
    const last = runs?.last ?? null;
    if (last !== null) {
      lastFinished.push({ labels, value: last.finishedMs / 1000 });
      lastRecords.push({ labels, value: last.records });
      lastDuration.push({ labels, value: last.durationMs / 1000 });
      for (const s of RUN_STATUSES) lastStatus.push({ labels: { pipeline: name, status: s }, value: last.status === s ? 1 : 0 });
    }
    const success = runs?.lastSuccess ?? null;
    if (success !== null) {
      lastSuccess.push({ labels, value: success.finishedMs / 1000 });
      lastSuccessRecords.push({ labels, value: success.records });
    }
  }

  return [
    counterFamily("etl_runs_total", "Finished runs by status (a run cut short by the next etl_started counts as failed).", totals),
    counterFamily("etl_runs_restarted_total", "Runs closed by the next etl_started of their pipeline (also counted in etl_runs_total as failed).", restarted),
    counterFamily("etl_runs_unmatched_finishes_total", "etl_finished events with no run in progress: counted, otherwise ignored.", unmatched),
    gaugeFamily("etl_runs_in_progress", "1 while a run (etl_started without its etl_finished yet) is in progress.", inProgress),
    gaugeFamily(
      "etl_pipeline_between_runs",
      "1 when the last run finished and none is in progress: the always-on alerts hold off.",
      betweenRuns,
    ),
    histogramFamily("etl_run_duration_seconds", "Duration of finished runs.", RUN_DURATION_BUCKETS_SECONDS, durations),
    gaugeFamily("etl_last_run_start_timestamp_seconds", "Unix time the newest run started (the one in progress, if any).", lastStart),
    gaugeFamily("etl_last_run_finished_timestamp_seconds", "Unix time the last finished run ended.", lastFinished),
    gaugeFamily("etl_last_run_records", "Records of the last finished run.", lastRecords),
    gaugeFamily("etl_last_run_duration_seconds", "Duration of the last finished run.", lastDuration),
    gaugeFamily("etl_last_run_status", "1 for the status of the last finished run, 0 for the others.", lastStatus),
    gaugeFamily("etl_last_successful_run_timestamp_seconds", "Unix time the last successful run ended (freshness).", lastSuccess),
    gaugeFamily("etl_last_successful_run_records", "Records of the last successful run.", lastSuccessRecords),
    gaugeFamily(
      "etl_deadline_timestamp_seconds",
      "Unix time by which the next successful run is due: the first scheduled time after the last success, plus grace.",
      deadline,
    ),
    gaugeFamily("etl_schedule_interval_seconds", "Seconds between the run that is due and the one after it.", interval),
    gaugeFamily("etl_pipeline_max_run_duration_seconds", "The catalog's max_run_duration: a longer run in progress is hung.", maxDuration),
    gaugeFamily("etl_pipeline_min_records", "The catalog's min_records: a successful run with fewer is empty.", minRecords),
    gaugeFamily("etl_pipeline_state", `1 for the pipeline's state (${PIPELINE_STATES.join(", ")}), 0 for the others.`, states),
    gaugeFamily("etl_pipeline_info", "1 per pipeline, with its kind, schedule and the catalog's labels.", info),
    // The exporter's own, beside the state it is about (absent when the simulator serves).
    ...(snapshot.exporter?.pipelinesRetired === undefined ? [] : [
      counterFamily(
        "etl_exporter_pipelines_retired_total",
        "Pipelines left out of /metrics and /health: not in the catalog and silent for --retire-after.",
        [{ labels: {}, value: snapshot.exporter.pipelinesRetired }],
      ),
    ]),
  ];
}
