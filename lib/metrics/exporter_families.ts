/**
 * The exporter's own families: what it read, how well, and how fresh its
 * checkpoint is.
 *
 * @example
 * ```ts
 * import { exporterFamilies } from "./exporter_families.ts";
 * import { createIngestState } from "../etl/state.ts";
 * const facts = { checkpointSavedAtMs: null, rotations: 0, truncations: 0, filesTailed: 1 };
 * exporterFamilies(createIngestState(), facts, true, Date.now()).length; // 8
 * ```
 * @module
 */
import type { ExporterFacts } from "../etl/snapshot.ts";
import type { IngestState, LineResult } from "../etl/state.ts";
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
