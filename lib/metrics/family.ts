/**
 * A metric family as plain data: a name, a help line, a type and its
 * samples. Families are made fresh from a state snapshot for every scrape,
 * and {@link ./exposition.ts} writes them in either exposition format.
 *
 * @example
 * ```ts
 * import { gaugeFamily } from "./family.ts";
 * const health = gaugeFamily("etl_health_status", "1 when healthy.", [
 *   { labels: { pipeline: "etl" }, value: 1 },
 * ]);
 * ```
 * @module
 */

/** One sample: label values and a number; `metricName` names a histogram's `_bucket`, `_sum`, `_count`. */
export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The metric types this project exposes. */
export type FamilyType = "counter" | "gauge" | "histogram";

/** One family; the shape of an entry of prom-client's `Registry.getMetricsAsJSON()`, too. */
export interface Family {
  name: string;
  help: string;
  type: FamilyType;
  values: Sample[];
}

/** A counter family; by convention its name ends in `_total`. */
export function counterFamily(name: string, help: string, values: Sample[]): Family {
  return { name, help, type: "counter", values };
}

/** A gauge family. */
export function gaugeFamily(name: string, help: string, values: Sample[]): Family {
  return { name, help, type: "gauge", values };
}

/** Counts of one histogram series: non-cumulative counts per bucket, `+Inf` last. */
export interface HistogramSeries {
  labels: Record<string, string>;
  bucketCounts: readonly number[];
  sum: number;
  count: number;
}

/**
 * A histogram family from per-bucket counts (made cumulative here).
 *
 * @example
 * ```ts
 * histogramFamily("d_seconds", "Durations.", [1, 5], [
 *   { labels: {}, bucketCounts: [2, 1, 0], sum: 4.5, count: 3 },
 * ]);
 * // d_seconds_bucket{le="1"} 2, {le="5"} 3, {le="+Inf"} 3, d_seconds_sum 4.5, d_seconds_count 3
 * ```
 */
export function histogramFamily(
  name: string,
  help: string,
  upperBounds: readonly number[],
  series: readonly HistogramSeries[],
): Family {
  const values: Sample[] = [];
  const bucketName = `${name}_bucket`;
  const sumName = `${name}_sum`;
  const countName = `${name}_count`;
  for (const s of series) {
    let cumulative = 0;
    for (let i = 0; i <= upperBounds.length; i++) {
      cumulative += s.bucketCounts[i] ?? 0;
      const le = i < upperBounds.length ? upperBounds[i]! : "+Inf";
      values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: bucketName });
    }
    values.push({ labels: s.labels, value: s.sum, metricName: sumName });
    values.push({ labels: s.labels, value: s.count, metricName: countName });
  }
  return { name, help, type: "histogram", values };
}
