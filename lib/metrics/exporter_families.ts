/**
 * The exporter's own families: what it read, how well, and how fresh its
 * checkpoint is.
 *
 * @example
 * ```ts
 * import { exporterFamilies } from "./exporter_families.ts";
 * import { createIngestState } from "../etl/state.ts";
 * const facts = { checkpointSavedAtMs: null, rotations: 0, truncations: 0, filesTailed: 1 };
 * exporterFamilies(createIngestState(), facts, true, Date.now()).length; // 10
 * ```
 * @module
 */
import type { ExporterFacts } from "../etl/snapshot.ts";
import { DROP_REASONS, type IngestState, type LineResult } from "../etl/state.ts";
import { counterFamily, type Family, gaugeFamily } from "./family.ts";

const LINE_RESULTS: readonly LineResult[] = ["parsed", "malformed", "rejected", "too_long"];

/** Builds the exporter's families. */
export function exporterFamilies(state: IngestState, facts: ExporterFacts, ready: boolean, nowMs: number): Family[] {
  const checkpointAge =
    facts.checkpointSavedAtMs === null ? [] : [{ labels: {}, value: Math.max(0, (nowMs - facts.checkpointSavedAtMs) / 1000) }];
  return [
    counterFamily(
      "etl_exporter_log_lines_total",
      "Log lines read, by result: parsed, malformed (not JSON), rejected (breaks the log contract), too_long.",
      LINE_RESULTS.map((result) => ({ labels: { result }, value: state.lines[result] })),
    ),
    counterFamily(
      "etl_exporter_lines_dropped_total",
      "Lines that kept the log contract (counted as parsed) but were not folded, by reason: pipeline_limit " +
        "(more pipelines than ETL_MAX_PIPELINES), clock_ahead (dated past ETL_MAX_CLOCK_AHEAD_SECONDS ahead), too_old (before 2000).",
      DROP_REASONS.map((reason) => ({ labels: { reason }, value: state.dropped[reason] })),
    ),
    gaugeFamily(
      "etl_exporter_saturated_counters",
      "Pipelines whose records counter reached 2^53-1 and stays there (past it a counter would lose exactness).",
      [{ labels: {}, value: Object.values(state.pipelines).filter((p) => p.recordsTotal >= Number.MAX_SAFE_INTEGER).length }],
    ),
    counterFamily("etl_exporter_log_bytes_total", "Bytes of log read.", [{ labels: {}, value: state.bytesRead }]),
    counterFamily(
      "etl_exporter_log_bytes_lost_total",
      "Bytes of log files that left the directory (or were truncated without a copy) before they were read to their end.",
      [{ labels: {}, value: state.bytesLost }],
    ),
    counterFamily("etl_exporter_log_rotations_total", "Log files replaced, by kind: rename or truncate.", [
      { labels: { kind: "rename" }, value: facts.rotations },
      { labels: { kind: "truncate" }, value: facts.truncations },
    ]),
    counterFamily(
      "etl_exporter_error_types_folded_total",
      "Failures whose error_type was counted as 'other' because the pipeline had too many distinct types.",
      [{ labels: {}, value: state.errorTypesFolded }],
    ),
    gaugeFamily("etl_exporter_log_files", "Log files being tailed.", [{ labels: {}, value: facts.filesTailed }]),
    gaugeFamily("etl_exporter_checkpoint_age_seconds", "Seconds since the last checkpoint was written; absent before the first.", checkpointAge),
    gaugeFamily("etl_exporter_ready", "1 once the logs present at start-up have been read.", [{ labels: {}, value: ready ? 1 : 0 }]),
  ];
}
