/**
 * PromQL text for the dashboard, and Grafana's variables in it: the
 * selectors every panel shares, the "one row per alert rule" vector, and
 * the substitution Grafana performs before a query reaches Prometheus, so
 * tests can parse and run exactly what Grafana would send.
 *
 * @example
 * ```ts
 * import { etlSelector, expandGrafanaVariables } from "./promql.ts";
 * const expr = `rate(${etlSelector("etl_records_total")}[$__rate_interval])`;
 * expandGrafanaVariables(expr, { __rate_interval: "4s", pipeline: "etl" });
 * // 'rate(etl_records_total{job="etl-metrics", pipeline=~"etl"}[4s])'
 * ```
 * @module
 */
import { PRODUCTION_ALERT_PARAMS } from "../alerts/rules.ts";

/**
 * The Prometheus job of the exporter. The dashboard reads only this job, as
 * the alert rules do: the simulator serves the same `etl_*` families on its
 * own `/metrics`, and reading both would count every record twice.
 *
 * @example
 * ```ts
 * EXPORTER_JOB; // "etl-metrics"
 * ```
 */
export const EXPORTER_JOB: string = PRODUCTION_ALERT_PARAMS.exporterJob;

/**
 * The dashboard's variable that selects pipelines.
 *
 * @example
 * ```ts
 * `pipeline=~"$${PIPELINE_VARIABLE}"`; // 'pipeline=~"$pipeline"'
 * ```
 */
export const PIPELINE_VARIABLE = "pipeline";

/**
 * The dashboard's data source variable (the name Grafana's linter asks for
 * when a dashboard has one data source variable).
 *
 * @example
 * ```ts
 * `\${${DATASOURCE_VARIABLE}}`; // "${datasource}"
 * ```
 */
export const DATASOURCE_VARIABLE = "datasource";

/**
 * A selector of the exporter's series of `metric` for the chosen pipelines.
 * `extra` matchers are appended as written.
 *
 * @example
 * ```ts
 * etlSelector("etl_health_status"); // 'etl_health_status{job="etl-metrics", pipeline=~"$pipeline"}'
 * etlSelector("etl_exporter_ready", { pipeline: false }); // 'etl_exporter_ready{job="etl-metrics"}'
 * ```
 */
export function etlSelector(metric: string, options: { pipeline?: boolean; extra?: readonly string[] } = {}): string {
  const matchers = [`job="${EXPORTER_JOB}"`];
  if (options.pipeline ?? true) matchers.push(`pipeline=~"$${PIPELINE_VARIABLE}"`);
  matchers.push(...(options.extra ?? []));
  return `${metric}{${matchers.join(", ")}}`;
}

/**
 * One sample of value 0 per alert name, labelled `alertname`: the right-hand
 * side of `… or on (alertname) <this>`, so a table of alert rules has a row
 * for every rule, firing or not, and is never empty.
 *
 * @example
 * ```ts
 * zeroPerAlert(["A", "B"]);
 * // 'label_replace(vector(0), "alertname", "A", "", "") or label_replace(vector(0), "alertname", "B", "", "")'
 * ```
 */
export function zeroPerAlert(names: readonly string[]): string {
  if (names.length === 0) throw new Error("zeroPerAlert needs at least one alert name");
  return names.map((name) => `label_replace(vector(0), "alertname", ${JSON.stringify(name)}, "", "")`).join(" or ");
}

/**
 * Values for Grafana's variables, by name without the `$`: built-ins such as
 * `__rate_interval` and `__range`, and dashboard variables such as
 * `pipeline` (already in the form Grafana writes into a regex matcher).
 *
 * @example
 * ```ts
 * const values: VariableValues = { __rate_interval: "4s", __range: "1h", pipeline: "(etl|orders)" };
 * ```
 */
export type VariableValues = Readonly<Record<string, string>>;

// $name, ${name}, ${name:format} and [[name]]: the forms Grafana interpolates.
const VARIABLE_REFERENCE = /\$\{([A-Za-z0-9_.]+)(?::[A-Za-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_.]+)\]\]/g;

/**
 * The names of the variables `text` refers to, in order of first use.
 *
 * @example
 * ```ts
 * variablesIn('rate(x{p=~"$pipeline"}[$__rate_interval])'); // ["pipeline", "__rate_interval"]
 * ```
 */
export function variablesIn(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(VARIABLE_REFERENCE)) names.add((m[1] ?? m[2] ?? m[3])!);
  return [...names];
}

/**
 * `text` with every variable replaced by its value, as Grafana does before
 * sending a query. A variable without a value throws, so a misspelt one
 * cannot slip through a test as literal text.
 *
 * @example
 * ```ts
 * expandGrafanaVariables('x{pipeline=~"$pipeline"}[$__rate_interval]', { pipeline: "etl", __rate_interval: "4s" });
 * // 'x{pipeline=~"etl"}[4s]'
 * ```
 */
export function expandGrafanaVariables(text: string, values: VariableValues): string {
  return text.replace(VARIABLE_REFERENCE, (whole, braced?: string, plain?: string, bracketed?: string) => {
    const name = (braced ?? plain ?? bracketed)!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${whole} in ${text}`);
    return value;
  });
}

/**
 * Grafana's `$__rate_interval` for a panel: `max($__interval + scrape
 * interval, 4 × scrape interval)`, in seconds. The scrape interval is the
 * data source's `timeInterval`; `$__interval` is the panel's step.
 *
 * @example
 * ```ts
 * rateIntervalSeconds({ scrapeSeconds: 15, intervalSeconds: 2 }); // 60
 * rateIntervalSeconds({ scrapeSeconds: 1, intervalSeconds: 1 }); // 4
 * ```
 */
export function rateIntervalSeconds(options: { scrapeSeconds: number; intervalSeconds: number }): number {
  return Math.max(options.intervalSeconds + options.scrapeSeconds, 4 * options.scrapeSeconds);
}

/**
 * A selection of pipelines as Grafana writes it into a regex matcher: one
 * value as is, several as `(a|b)`. Pipeline names (`^[a-z0-9][a-z0-9_-]*$`
 * by the log contract) need no escaping; anything else is refused rather
 * than escaped differently from Grafana.
 *
 * @example
 * ```ts
 * pipelineSelection(["etl"]); // "etl"
 * pipelineSelection(["etl", "orders"]); // "(etl|orders)"
 * ```
 */
export function pipelineSelection(pipelines: readonly string[]): string {
  if (pipelines.length === 0) throw new Error("a selection needs at least one pipeline");
  for (const p of pipelines) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(p)) throw new Error(`not a pipeline name: ${JSON.stringify(p)}`);
  }
  return pipelines.length === 1 ? pipelines[0]! : `(${pipelines.join("|")})`;
}
