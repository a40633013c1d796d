/**
 * Renders a snapshot as a Prometheus scrape, in either exposition format:
 * the ETL families, the exporter's own when the snapshot has them, and any
 * process families (prom-client's default metrics, collected by the caller).
 * Everything is computed from the snapshot at its `nowMs`, so time-based
 * gauges are exact to the millisecond of the scrape.
 *
 * @example
 * ```ts
 * import { renderMetrics } from "./render.ts";
 * import { createIngestState } from "../etl/state.ts";
 * const { body } = renderMetrics({ state: createIngestState(), nowMs: Date.now(), ready: true }, "text");
 * ```
 * @module
 */
import type { Snapshot } from "../etl/snapshot.ts";
import { etlFamilies } from "./etl_families.ts";
import { exporterFamilies } from "./exporter_families.ts";
import { renderFamilies } from "./exposition.ts";
import type { Family } from "./family.ts";
import { runFamilies } from "./run_families.ts";
import { CONTENT_TYPES, type ExpositionFormat } from "./negotiate.ts";

/** A rendered scrape. */
export interface RenderedMetrics {
  contentType: string;
  body: string;
}

/** The families of one scrape, in the order they are written. */
export function snapshotFamilies(snapshot: Snapshot, processFamilies: readonly Family[] = []): Family[] {
  const families = etlFamilies(snapshot.state, snapshot.nowMs, snapshot.healthPolicy);
  families.push(...runFamilies(snapshot));
  if (snapshot.exporter) families.push(...exporterFamilies(snapshot.state, snapshot.exporter, snapshot.ready, snapshot.nowMs));
  families.push(...processFamilies);
  return families;
}

/** Renders the snapshot's families and `processFamilies` after them. */
export function renderMetrics(
  snapshot: Snapshot,
  format: ExpositionFormat,
  processFamilies: readonly Family[] = [],
): RenderedMetrics {
  return { contentType: CONTENT_TYPES[format], body: renderFamilies(snapshotFamilies(snapshot, processFamilies), format) };
}
