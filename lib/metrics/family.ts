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
  for (const s of series) pushHistogramSamples(name, upperBounds, s, values);
  return { name, help, type: "histogram", values };
}

/** Appends the `_bucket`, `_sum` and `_count` samples of one histogram series to `out`. */
export function pushHistogramSamples(name: string, upperBounds: readonly number[], s: HistogramSeries, out: Sample[]): void {
  const bucketName = `${name}_bucket`;
  let cumulative = 0;
  for (let i = 0; i <= upperBounds.length; i++) {
    cumulative += s.bucketCounts[i] ?? 0;
    const le = i < upperBounds.length ? upperBounds[i]! : "+Inf";
    out.push({ labels: { ...s.labels, le }, value: cumulative, metricName: bucketName });
  }
  out.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
  out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
}

/**
 * Families whose samples are made pipeline by pipeline, each pipeline's
 * after the one before in `names` order: the families of a scrape are the
 * `heads` with every pipeline's samples, and a renderer can keep each
 * pipeline's part and make again only the parts that changed.
 */
export interface PerPipelineFamilies {
  /** Name, help and type of each family, with no samples. */
  heads: readonly Family[];
  /** Which families' samples depend on the clock (the rest only on the pipeline's state). */
  clock: readonly boolean[];
  /** The pipelines, in the order their samples are written. */
  names: readonly string[];
  /** Appends the samples of pipeline `name` to `out[i]` of each family `i` that has one. */
  samples(name: string, out: readonly (Sample[] | undefined)[]): void;
}

/** The families of `table` with every pipeline's samples. */
export function allFamilies(table: PerPipelineFamilies): Family[] {
  const families = table.heads.map((head) => ({ ...head, values: [] as Sample[] }));
  const out = families.map((f) => f.values);
  for (const name of table.names) table.samples(name, out);
  return families;
}
