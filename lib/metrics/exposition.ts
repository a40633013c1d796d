/**
 * Writes metric families in the Prometheus text format 0.0.4 or in
 * OpenMetrics 1.0, straight from the data: no registry, nothing kept between
 * scrapes. The output is line for line what prom-client's `Registry` writes
 * for the same families (`exposition.test.ts` checks that for random
 * states), except that NaN is written `NaN` as both formats say (prom-client
 * writes `Nan`).
 *
 * Text 0.0.4: `# HELP`, `# TYPE`, then one line per sample, families apart by
 * a blank line. OpenMetrics: a counter family is named without its `_total`
 * and each of its samples with it, families follow each other directly, and
 * the body ends with `# EOF`.
 *
 * @example
 * ```ts
 * import { renderFamilies } from "./exposition.ts";
 * import { gaugeFamily } from "./family.ts";
 * renderFamilies([gaugeFamily("up", "Up.", [{ labels: {}, value: 1 }])], "text");
 * // "# HELP up Up.\n# TYPE up gauge\nup 1\n"
 * ```
 * @module
 */
import type { Family, Sample } from "./family.ts";
import type { ExpositionFormat } from "./negotiate.ts";

const NEEDS_ESCAPE_HELP_TEXT = /[\\\n]/;
const NEEDS_ESCAPE_QUOTED = /[\\\n"]/;

// Text 0.0.4 escapes `\` and newline in HELP; label values, and OpenMetrics HELP, also `"`.
function escapeHelp(help: string, format: ExpositionFormat): string {
  return format === "openmetrics" ? escapeQuoted(help) : NEEDS_ESCAPE_HELP_TEXT.test(help) ? help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n") : help;
}

function escapeQuoted(value: string): string {
  if (!NEEDS_ESCAPE_QUOTED.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** A sample value as both formats write it. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return `${value}`;
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "+Inf" : "-Inf";
}

// Families share one labels object across their samples (`{ pipeline }` in 12
// ETL families): each is formatted once per render, not once per sample.
/** Label sets formatted so far, by object: share one across the samples of a render. */
export type LabelStrings = Map<Sample["labels"], string>;

function formatLabels(labels: Sample["labels"], cache: LabelStrings): string {
  let out = cache.get(labels);
  if (out !== undefined) return out;
  out = "";
  for (const name in labels) {
    const value = labels[name]!;
    out += `${out === "" ? "{" : ","}${name}="${typeof value === "string" ? escapeQuoted(value) : value}"`;
  }
  if (out !== "") out += "}";
  cache.set(labels, out);
  return out;
}

const counterInOpenMetrics = (family: Family, format: ExpositionFormat) => format === "openmetrics" && family.type === "counter";
const exposedName = (family: Family, format: ExpositionFormat) => counterInOpenMetrics(family, format) ? family.name.replace(/_total$/, "") : family.name;

/** The `# HELP` and `# TYPE` lines of a family, each ending with a newline. */
export function familyHeader(family: Family, format: ExpositionFormat): string {
  const name = exposedName(family, format);
  return `# HELP ${name} ${escapeHelp(family.help, format)}\n# TYPE ${name} ${family.type}\n`;
}

/**
 * The lines of `samples` of `family` (its own or some of them), each ending with a newline.
 * Lines are collected and joined once: appending to one long string makes a
 * rope that costs a flatten and more garbage at 32,000 series.
 */
export function renderSamples(family: Family, format: ExpositionFormat, samples: readonly Sample[], labelStrings: LabelStrings): string {
  if (samples.length === 0) return "";
  const name = exposedName(family, format);
  const total = counterInOpenMetrics(family, format) ? `${name}_total` : undefined;
  const lines: string[] = [];
  for (const sample of samples) {
    const sampleName = total === undefined ? (sample.metricName ?? name) : sample.metricName === undefined ? total : `${sample.metricName}_total`;
    lines.push(`${sampleName}${formatLabels(sample.labels, labelStrings)} ${formatValue(sample.value)}`);
  }
  lines.push("");
  return lines.join("\n");
}

/**
 * A body from the blocks of its families in order, each block a family's
 * header and sample lines: text 0.0.4 leaves a blank line between families,
 * as prom-client does; OpenMetrics ends with `# EOF`.
 */
export function joinFamilyBlocks(blocks: readonly string[], format: ExpositionFormat): string {
  // Empty: a bare newline in text, as prom-client writes; OpenMetrics is just its end marker.
  if (blocks.length === 0) return format === "openmetrics" ? "# EOF\n" : "\n";
  return format === "openmetrics" ? blocks.join("") + "# EOF\n" : blocks.join("\n");
}

/** The body of a scrape holding `families`, in order. */
export function renderFamilies(families: readonly Family[], format: ExpositionFormat): string {
  const labelStrings: LabelStrings = new Map();
  return joinFamilyBlocks(families.map((f) => familyHeader(f, format) + renderSamples(f, format, f.values, labelStrings)), format);
}
