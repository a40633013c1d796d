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
import { windowTotalsOver } from "../etl/window.ts";
import { allFamilies, counterFamily, type Family, gaugeFamily, histogramFamily, type PerPipelineFamilies, pushHistogramSamples } from "./family.ts";

/** Seconds over which `etl_current_rate_records_per_second` is averaged. */
export const RATE_WINDOW_SECONDS = 60;
/** Seconds over which `etl_avg_processing_time_seconds` is averaged. */
export const AVERAGE_WINDOW_SECONDS = 300;

const WINDOWS = [RATE_WINDOW_SECONDS, AVERAGE_WINDOW_SECONDS];

/** Builds every ETL family from `state` as of `nowMs`. */
export function etlFamilies(
  state: IngestState,
  nowMs: number,
  policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
): Family[] {
  return allFamilies(etlPipelineFamilies(state, nowMs, policy));
}

// Indexes into the families below, in their order.
const RECORDS = 0, FILES = 1, FAILURES = 2, ERRORS = 3, STARTS = 4, RATE = 5, AVERAGE = 6, SINCE_SUCCESS = 7,
  LAST_SUCCESS = 8, LAST_EVENT = 9, HEALTH = 10, UPTIME = 11, DURATIONS = 12;

/** The ETL families of `state` as of `nowMs`, pipeline by pipeline (see {@linkcode PerPipelineFamilies}). */
export function etlPipelineFamilies(
  state: IngestState,
  nowMs: number,
  policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
): PerPipelineFamilies {
  const heads = [
    counterFamily("etl_records_total", "Records processed, including those of failed files before they failed.", []),
    counterFamily("etl_files_total", "Files processed successfully.", []),
    counterFamily("etl_failures_total", "Files that failed.", []),
    counterFamily("etl_errors_by_type_total", "Failed files by error category; known categories start at 0.", []),
    counterFamily("etl_starts_total", "ETL process starts seen (etl_started events); more than 1 means restarts.", []),
    gaugeFamily(
      "etl_current_rate_records_per_second",
      `Records of files finished in the last ${RATE_WINDOW_SECONDS} s, divided by ${RATE_WINDOW_SECONDS}.`,
      [],
    ),
    gaugeFamily(
      "etl_avg_processing_time_seconds",
      `Mean duration of the files processed successfully in the last ${AVERAGE_WINDOW_SECONDS} s; absent when none.`,
      [],
    ),
    gaugeFamily(
      "etl_seconds_since_last_success",
      "Seconds since the last file processed successfully (since the pipeline was first seen, before any).",
      [],
    ),
    gaugeFamily(
      "etl_last_success_timestamp_seconds",
      "Unix time of the last file processed successfully (when the pipeline was first seen, before any).",
      [],
    ),
    gaugeFamily("etl_last_event_timestamp_seconds", "Unix time of the newest event, heartbeats included.", []),
    gaugeFamily(
      "etl_health_status",
      `1 when healthy; 0 when no event for ${policy.staleAfterMs / 1000} s or the last ${policy.maxConsecutiveFailures} files all failed.`,
      [],
    ),
    gaugeFamily("etl_uptime_seconds", "Seconds since the last etl_started event.", []),
    histogramFamily("etl_file_processing_duration_seconds", "Duration of files processed successfully.", DURATION_BUCKETS_SECONDS, []),
  ];
  const clock = heads.map((_, i) => i === RATE || i === AVERAGE || i === SINCE_SUCCESS || i === HEALTH || i === UPTIME);
  return {
    heads,
    clock,
    names: Object.keys(state.pipelines).sort(),
    samples(name, out) {
      const p = state.pipelines[name]!;
      const labels = { pipeline: name };
      out[RECORDS]?.push({ labels, value: p.recordsTotal });
      out[FILES]?.push({ labels, value: p.filesTotal });
      out[FAILURES]?.push({ labels, value: p.failuresTotal });
      const errors = out[ERRORS];
      if (errors !== undefined) {
        for (const type of Object.keys(p.errorsByType).sort()) {
          errors.push({ labels: { pipeline: name, error_type: type }, value: p.errorsByType[type]! });
        }
      }
      out[STARTS]?.push({ labels, value: p.startsTotal });
      if (out[RATE] !== undefined || out[AVERAGE] !== undefined) {
        const [rate, recent] = windowTotalsOver(p, nowMs, WINDOWS);
        out[RATE]?.push({ labels, value: rate!.records / RATE_WINDOW_SECONDS });
        if (recent!.files > 0) out[AVERAGE]?.push({ labels, value: recent!.durationUs / recent!.files / 1e6 });
      }
      const successMs = p.lastSuccessMs ?? p.firstEventMs;
      out[SINCE_SUCCESS]?.push({ labels, value: Math.max(0, (nowMs - successMs) / 1000) });
      out[LAST_SUCCESS]?.push({ labels, value: successMs / 1000 });
      out[LAST_EVENT]?.push({ labels, value: p.lastEventMs / 1000 });
      out[HEALTH]?.push({ labels, value: assessPipeline(p, nowMs, policy, runsOf(state.runs, name)).healthy ? 1 : 0 });
      if (p.lastStartMs !== null) out[UPTIME]?.push({ labels, value: Math.max(0, (nowMs - p.lastStartMs) / 1000) });
      const durations = out[DURATIONS];
      if (durations !== undefined) {
        pushHistogramSamples(
          heads[DURATIONS]!.name,
          DURATION_BUCKETS_SECONDS,
          { labels, bucketCounts: p.durationBucketCounts, sum: p.durationSumUs / 1e6, count: p.durationCount },
          durations,
        );
      }
    },
  };
}
