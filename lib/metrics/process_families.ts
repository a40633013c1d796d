/**
 * The process's own families (prom-client's default metrics: CPU, memory,
 * event loop, GC), collected at most once a second and shared by every
 * scrape in that second. Collecting reads /proc and walks the open handles,
 * which under 50 concurrent scrapers cost more than rendering the ETL
 * families; a second is the resolution Prometheus stores anyway.
 *
 * @example
 * ```ts
 * import { Registry, collectDefaultMetrics } from "prom-client";
 * import { processFamiliesPerSecond } from "./process_families.ts";
 * const registry = new Registry();
 * collectDefaultMetrics({ register: registry });
 * const processFamilies = processFamiliesPerSecond(() => registry.getMetricsAsJSON());
 * (await processFamilies()).length; // about 30
 * ```
 * @module
 */
import type { Family, FamilyType } from "./family.ts";

/** Gives the families of the process, as of the current second. */
export type ProcessFamiliesSource = () => Promise<readonly Family[]>;

/** One entry of prom-client's `getMetricsAsJSON()`, as far as it is read here. */
export interface CollectedMetric {
  name: string;
  help: string;
  /** A string at run time ("counter", …), though prom-client's typings declare a numeric enum. */
  type: unknown;
  values: readonly { labels: Partial<Record<string, string | number>>; value: number; metricName?: string }[];
}

const TYPES: readonly unknown[] = ["counter", "gauge", "histogram"] satisfies FamilyType[];

/**
 * Gauges no live process can read as 0. prom-client writes 0 when it cannot
 * read /proc (Deno without --allow-all refuses it): 0 there means "unknown",
 * and an unknown is left out rather than served as a value.
 */
const NEVER_ZERO = new Set(["process_resident_memory_bytes", "process_virtual_memory_bytes", "process_heap_bytes", "process_open_fds", "process_max_fds"]);

/** Keeps the families of a type both formats write the same way here (not summaries), less unknowns. */
export function toFamilies(collected: readonly CollectedMetric[]): Family[] {
  return collected
    .filter((metric) => TYPES.includes(metric.type))
    .filter((metric) => !(NEVER_ZERO.has(metric.name) && metric.values.every(({ value }) => value === 0)))
    .map((metric) => ({
      name: metric.name,
      help: metric.help,
      type: metric.type as FamilyType,
      values: metric.values.map(({ labels, value, metricName }) => {
        const defined: Record<string, string | number> = {};
        for (const [name, label] of Object.entries(labels)) if (label !== undefined) defined[name] = label;
        return metricName === undefined ? { labels: defined, value } : { labels: defined, value, metricName };
      }),
    }));
}

/** Collects through `collect` at most once per second of `nowMs`; scrapes in that second share it. */
export function processFamiliesPerSecond(
  collect: () => Promise<readonly CollectedMetric[]>,
  nowMs: () => number = Date.now,
): ProcessFamiliesSource {
  let second = Number.NaN;
  let latest: Promise<readonly Family[]> = Promise.resolve([]);
  return () => {
    const current = Math.floor(nowMs() / 1000);
    if (current !== second) {
      second = current;
      latest = collect().then(toFamilies);
      // A failed collection is not kept: the next scrape tries again.
      latest.catch(() => {
        second = Number.NaN;
      });
    }
    return latest;
  };
}
