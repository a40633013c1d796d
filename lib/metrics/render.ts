/**
 * Renders a snapshot as a Prometheus scrape, in either exposition format,
 * through a registry made for this one scrape (it only collects).
 *
 * @example
 * ```ts
 * import { renderMetrics } from "./render.ts";
 * import { createIngestState } from "../etl/state.ts";
 * const { body } = await renderMetrics({ state: createIngestState(), nowMs: Date.now(), ready: true }, "text");
 * ```
 * @module
 */
/// <reference path="./prom_client_modules.d.ts" />
import type { Metric } from "prom-client";
// The registry's own module, not prom-client's index: see prom_client_modules.d.ts.
import Registry from "prom-client/lib/registry.js";
import type { Snapshot } from "../etl/snapshot.ts";
import { etlFamilies } from "./etl_families.ts";
import { exporterFamilies } from "./exporter_families.ts";
import { asMetric, type Family } from "./family.ts";
import { runFamilies } from "./run_families.ts";
import { CONTENT_TYPES, type ExpositionFormat } from "./negotiate.ts";

/** A rendered scrape. */
export interface RenderedMetrics {
  contentType: string;
  body: string;
}

/**
 * Renders the ETL families, the exporter's own (when the snapshot has them)
 * and any `processMetrics` (prom-client's default metrics, say).
 */
export async function renderMetrics(
  snapshot: Snapshot,
  format: ExpositionFormat,
  processMetrics: readonly Metric[] = [],
): Promise<RenderedMetrics> {
  const registry = new Registry();
  registry.setContentType(CONTENT_TYPES[format] as typeof Registry.PROMETHEUS_CONTENT_TYPE);
  const families: Family[] = etlFamilies(snapshot.state, snapshot.nowMs, snapshot.healthPolicy);
  families.push(...runFamilies(snapshot));
  if (snapshot.exporter) families.push(...exporterFamilies(snapshot.state, snapshot.exporter, snapshot.ready, snapshot.nowMs));
  for (const family of families) registry.registerMetric(asMetric(family));
  for (const metric of processMetrics) registry.registerMetric(borrow(metric));
  return { contentType: CONTENT_TYPES[format], body: await registry.metrics() };
}

/**
 * A per-scrape stand-in for a long-lived metric: the registry renames a
 * counter for OpenMetrics in place, which must not leak into later scrapes.
 */
function borrow(metric: Metric): Metric {
  const original = metric as unknown as { name: string; type: string; help: string; aggregator: string; get(): Promise<object> };
  const stand_in = {
    name: original.name,
    type: original.type,
    help: original.help,
    aggregator: original.aggregator,
    async get(this: { name: string }) {
      return { ...(await original.get()), name: this.name };
    },
  };
  return stand_in as unknown as Metric;
}
