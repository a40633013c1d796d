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

function formatLabels(labels: Sample["labels"]): string {
  let out = "";
  for (const name in labels) {
    const value = labels[name]!;
    out += `${out === "" ? "{" : ","}${name}="${typeof value === "string" ? escapeQuoted(value) : value}"`;
  }
  return out === "" ? "" : `${out}}`;
}

function renderFamily(family: Family, format: ExpositionFormat): string {
  const counterInOpenMetrics = format === "openmetrics" && family.type === "counter";
  const name = counterInOpenMetrics ? family.name.replace(/_total$/, "") : family.name;
  let out = `# HELP ${name} ${escapeHelp(family.help, format)}\n# TYPE ${name} ${family.type}`;
  for (const sample of family.values) {
    const sampleName = counterInOpenMetrics ? `${sample.metricName ?? name}_total` : (sample.metricName ?? name);
    out += `\n${sampleName}${formatLabels(sample.labels)} ${formatValue(sample.value)}`;
  }
  return out;
}

/** The body of a scrape holding `families`, in order. */
export function renderFamilies(families: readonly Family[], format: ExpositionFormat): string {
  const parts = families.map((family) => renderFamily(family, format));
  return format === "openmetrics" ? `${parts.join("\n")}\n# EOF\n` : `${parts.join("\n\n")}\n`;
}
