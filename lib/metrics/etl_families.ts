/**
 * The ETL metric families: the nine names of the reference stack, exactly,
 * and the ones Prometheus practice adds. Every series has a `pipeline` label.
 *
 * @example
 * ```ts
 * import { etlFamilies } from "./etl_families.ts";
 * import { createIngestState } from "../etl/state.ts";
 * etlFamilies(createIngestState(), Date.now()).map((f) => f.name);
 * ```
 * @module
 */
import { assessPipeline, DEFAULT_HEALTH_POLICY, type HealthPolicy } from "../etl/health.ts";
import { runsOf } from "../etl/runs.ts";
import { DURATION_BUCKETS_SECONDS, type IngestState } from "../etl/state.ts";
import { windowTotals } from "../etl/window.ts";
import { counterFamily, type Family, gaugeFamily, histogramFamily, type Sample } from "./family.ts";

/** Seconds over which `etl_current_rate_records_per_second` is averaged. */
export const RATE_WINDOW_SECONDS = 60;
/** Seconds over which `etl_avg_processing_time_seconds` is averaged. */
export const AVERAGE_WINDOW_SECONDS = 300;

/** Builds every ETL family from `state` as of `nowMs`. */
export function etlFamilies(
  state: IngestState,
  nowMs: number,
  policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
): Family[] {
  const records: Sample[] = [];
  const files: Sample[] = [];
  const failures: Sample[] = [];
  const errors: Sample[] = [];
  const starts: Sample[] = [];
  const rate: Sample[] = [];
  const average: Sample[] = [];
  const sinceSuccess: Sample[] = [];
  const lastSuccess: Sample[] = [];
  const lastEvent: Sample[] = [];
  const health: Sample[] = [];
  const uptime: Sample[] = [];
  const durations = [];

  for (const name of Object.keys(state.pipelines).sort()) {
    const p = state.pipelines[name]!;
    const labels = { pipeline: name };
    records.push({ labels, value: p.recordsTotal });
    files.push({ labels, value: p.filesTotal });
    failures.push({ labels, value: p.failuresTotal });
    for (const type of Object.keys(p.errorsByType).sort()) {
      errors.push({ labels: { pipeline: name, error_type: type }, value: p.errorsByType[type]! });
    }
    starts.push({ labels, value: p.startsTotal });
    rate.push({ labels, value: windowTotals(p, nowMs, RATE_WINDOW_SECONDS).records / RATE_WINDOW_SECONDS });
    const recent = windowTotals(p, nowMs, AVERAGE_WINDOW_SECONDS);
    if (recent.files > 0) average.push({ labels, value: recent.durationUs / recent.files / 1e6 });
    const successMs = p.lastSuccessMs ?? p.firstEventMs;
    sinceSuccess.push({ labels, value: Math.max(0, (nowMs - successMs) / 1000) });
    lastSuccess.push({ labels, value: successMs / 1000 });
    lastEvent.push({ labels, value: p.lastEventMs / 1000 });
    health.push({ labels, value: assessPipeline(p, nowMs, policy, runsOf(state.runs, name)).healthy ? 1 : 0 });
    if (p.lastStartMs !== null) uptime.push({ labels, value: Math.max(0, (nowMs - p.lastStartMs) / 1000) });
    durations.push({ labels, bucketCounts: p.durationBucketCounts, sum: p.durationSumUs / 1e6, count: p.durationCount });
  }

  return [
    counterFamily("etl_records_total", "Records processed, including those of failed files before they failed.", records),
    counterFamily("etl_files_total", "Files processed successfully.", files),
    counterFamily("etl_failures_total", "Files that failed.", failures),
    counterFamily("etl_errors_by_type_total", "Failed files by error category; known categories start at 0.", errors),
    counterFamily("etl_starts_total", "ETL process starts seen (etl_started events); more than 1 means restarts.", starts),
    gaugeFamily(
      "etl_current_rate_records_per_second",
      `Records of files finished in the last ${RATE_WINDOW_SECONDS} s, divided by ${RATE_WINDOW_SECONDS}.`,
      rate,
    ),
    gaugeFamily(
      "etl_avg_processing_time_seconds",
      `Mean duration of the files processed successfully in the last ${AVERAGE_WINDOW_SECONDS} s; absent when none.`,
      average,
    ),
    gaugeFamily(
      "etl_seconds_since_last_success",
      "Seconds since the last file processed successfully (since the pipeline was first seen, before any).",
      sinceSuccess,
    ),
    gaugeFamily(
      "etl_last_success_timestamp_seconds",
      "Unix time of the last file processed successfully (when the pipeline was first seen, before any).",
      lastSuccess,
    ),
    gaugeFamily("etl_last_event_timestamp_seconds", "Unix time of the newest event, heartbeats included.", lastEvent),
    gaugeFamily(
      "etl_health_status",
      `1 when healthy; 0 when no event for ${policy.staleAfterMs / 1000} s or the last ${policy.maxConsecutiveFailures} files all failed.`,
      health,
    ),
    gaugeFamily("etl_uptime_seconds", "Seconds since the last etl_started event.", uptime),
    histogramFamily(
      "etl_file_processing_duration_seconds",
      "Duration of files processed successfully.",
      DURATION_BUCKETS_SECONDS,
      durations,
    ),
  ];
}
