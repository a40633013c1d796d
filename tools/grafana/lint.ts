/**
 * The rules of Grafana's dashboard linter (`grafana/dashboard-linter`) that
 * apply to a provisioned Prometheus dashboard, as pure functions over the
 * dashboard JSON, plus a few of this project's own (stable ids and refIds,
 * the exporter's job on every ETL selector). Each rule returns findings; a
 * finding can be excused only by an {@linkcode LintException} that says
 * why, and an exception that excuses nothing is itself a finding, so the
 * list cannot rot.
 *
 * PromQL is read with Prometheus's Lezer grammar after Grafana's variables
 * are replaced by placeholders ({@linkcode LINT_VARIABLE_VALUES}), as the
 * linter does; the placeholders' ranges are recognised afterwards.
 *
 * @example
 * ```ts
 * import { lintDashboard } from "./lint.ts";
 * const findings = lintDashboard(JSON.parse(json), { exceptions: [] });
 * findings.length; // 0 for a clean dashboard
 * ```
 * @module
 */
import { promqlSyntaxErrors, selectorsOf } from "./promql_ast.ts";
import { DATASOURCE_VARIABLE, expandGrafanaVariables, variablesIn } from "../../lib/dashboard/promql.ts";

/**
 * The parts of a dashboard the rules read (Grafana's JSON model, loosely).
 *
 * @example
 * ```ts
 * const d: LintDashboard = { uid: "x", editable: false, panels: [], templating: { list: [] } };
 * ```
 */
export interface LintDashboard {
  uid?: string;
  title?: string;
  editable?: boolean;
  templating?: { list?: LintVariable[] };
  panels?: LintPanel[];
}

/**
 * A template variable as the rules read it.
 *
 * @example
 * ```ts
 * const v: LintVariable = { name: "pipeline", type: "query", query: "label_values(up, pipeline)", refresh: 2 };
 * ```
 */
export interface LintVariable {
  name: string;
  type: string;
  label?: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string } | null;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  refresh?: number;
}

/**
 * A panel (or row) as the rules read it.
 *
 * @example
 * ```ts
 * const p: LintPanel = { id: 1, type: "stat", title: "Up", description: "Is it up? …", targets: [{ refId: "A", expr: "up" }] };
 * ```
 */
export interface LintPanel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string } | null;
  targets?: LintTarget[];
  panels?: LintPanel[];
  fieldConfig?: {
    defaults?: { unit?: string };
    overrides?: Array<{ properties?: Array<{ id: string; value?: unknown }> }>;
  };
}

/**
 * A query of a panel as the rules read it.
 *
 * @example
 * ```ts
 * const t: LintTarget = { refId: "A", expr: "up", instant: true, datasource: { uid: "${datasource}" } };
 * ```
 */
export interface LintTarget {
  refId?: string;
  expr?: string;
  instant?: boolean;
  range?: boolean;
  datasource?: { type?: string; uid?: string } | null;
}

/**
 * What a rule found.
 *
 * @example
 * ```ts
 * const f: LintFinding = { rule: "panel-units-rule", panel: "Processing Rate", message: "no unit" };
 * ```
 */
export interface LintFinding {
  rule: string;
  /** The panel's title, when the finding is about a panel. */
  panel?: string;
  refId?: string;
  message: string;
}

/**
 * A finding the dashboard keeps on purpose, and why. `refId` narrows it to
 * one query; without it, it covers the whole panel for that rule.
 *
 * @example
 * ```ts
 * const e: LintException = { rule: "target-counter-agg-rule", panel: "Cumulative Counts", reason: "raw totals on purpose" };
 * ```
 */
export interface LintException {
  rule: string;
  panel: string;
  refId?: string;
  reason: string;
}

/**
 * Options of {@linkcode lintDashboard}.
 *
 * @example
 * ```ts
 * const options: LintOptions = { exceptions: [], requiredJob: "etl-metrics", jobExempt: ["ALERTS"] };
 * ```
 */
export interface LintOptions {
  exceptions: readonly LintException[];
  /** When set, every selector must match `job="<requiredJob>"` exactly. */
  requiredJob?: string;
  /** Metrics the required job does not apply to (e.g. `ALERTS`, which carries each alert's own labels). */
  jobExempt?: readonly string[];
}

/**
 * Placeholders for Grafana's variables while parsing: distinct durations for
 * the time variables (so a range can be told apart afterwards), a plain
 * value for the others.
 *
 * @example
 * ```ts
 * LINT_VARIABLE_VALUES.__rate_interval; // "7777771s"
 * ```
 */
export const LINT_VARIABLE_VALUES: Readonly<Record<string, string>> = Object.freeze({
  __rate_interval: "7777771s",
  __interval: "7777772s",
  __range: "7777773s",
  __range_s: "7777774",
  __interval_ms: "7777775",
  __range_ms: "7777776",
});

/**
 * Unit ids the linter accepts, from Grafana's value formats
 * (`packages/grafana-data/src/valueFormats/categories.ts`), as the
 * dashboard linter enumerates them; the ones a dashboard here may use.
 *
 * @example
 * ```ts
 * VALID_UNITS.has("s"); // true
 * ```
 */
export const VALID_UNITS: ReadonlySet<string> = new Set([
  "none", "string", "short", "percent", "percentunit", "locale", "sci",
  "bytes", "decbytes", "bits", "decbits", "kbytes", "mbytes", "gbytes",
  "Bps", "bps", "binBps", "binbps", "KBs", "MBs",
  "dateTimeAsIso", "dateTimeAsIsoNoDateIfToday", "dateTimeAsLocal", "dateTimeAsLocalNoDateIfToday", "dateTimeAsSystem", "dateTimeFromNow",
  "hertz", "ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dthms", "dtdhms", "timeticks", "clockms", "clocks",
  "cps", "ops", "reqps", "rps", "wps", "iops", "cpm", "opm", "rpm", "wpm",
  "bool", "bool_yes_no", "bool_on_off",
]);

/** Functions whose range argument the rate-interval rule governs. */
const RATE_FUNCTIONS = new Set(["rate", "irate", "increase"]);
/** Functions that turn a counter into something plottable. */
const COUNTER_FUNCTIONS = new Set(["rate", "irate", "increase"]);
/** Suffixes of counter series: counters and the parts of histograms and summaries. */
const COUNTER_SUFFIXES = ["_total", "_count", "_sum", "_bucket"];
/** Query-variable functions of Grafana's Prometheus data source. */
const VARIABLE_FUNCTIONS = new Set(["label_names", "label_values", "metrics", "query_result"]);

const isRow = (p: LintPanel) => p.type === "row";

/**
 * Every panel, rows' nested panels included, rows left out.
 *
 * @example
 * ```ts
 * allPanels({ panels: [{ type: "row", panels: [{ type: "stat" }] }] }).length; // 1
 * ```
 */
export function allPanels(dashboard: LintDashboard): LintPanel[] {
  const out: LintPanel[] = [];
  const visit = (panels: readonly LintPanel[]) => {
    for (const p of panels) {
      if (!isRow(p)) out.push(p);
      visit(p.panels ?? []);
    }
  };
  visit(dashboard.panels ?? []);
  return out;
}

/**
 * Every row and panel, nested ones included (for the id rules).
 *
 * @example
 * ```ts
 * allPanelsAndRows({ panels: [{ type: "row", panels: [{ type: "stat" }] }] }).length; // 2
 * ```
 */
export function allPanelsAndRows(dashboard: LintDashboard): LintPanel[] {
  const out: LintPanel[] = [];
  const visit = (panels: readonly LintPanel[]) => {
    for (const p of panels) {
      out.push(p);
      visit(p.panels ?? []);
    }
  };
  visit(dashboard.panels ?? []);
  return out;
}

const variables = (d: LintDashboard) => d.templating?.list ?? [];
const queryText = (v: LintVariable) => (typeof v.query === "string" ? v.query : v.query?.query ?? "");
const titleCase = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The values for parsing `expr` of `dashboard`: {@linkcode LINT_VARIABLE_VALUES}
 * and a plain word for each dashboard variable.
 *
 * @example
 * ```ts
 * lintValues({ templating: { list: [{ name: "pipeline", type: "query" }] } }).pipeline; // "lint_pipeline"
 * ```
 */
export function lintValues(dashboard: LintDashboard): Record<string, string> {
  const values: Record<string, string> = { ...LINT_VARIABLE_VALUES };
  for (const v of variables(dashboard)) values[v.name] = `lint_${v.name}`;
  return values;
}

/**
 * The templated data source variable: one, named and labelled as the linter asks.
 *
 * @example
 * ```ts
 * templateDatasourceRule(dashboard); // [] when it holds
 * ```
 */
export function templateDatasourceRule(d: LintDashboard): LintFinding[] {
  const rule = "template-datasource-rule";
  const ds = variables(d).filter((v) => v.type === "datasource");
  if (ds.length === 0) return [{ rule, message: "the dashboard has no data source variable" }];
  const findings: LintFinding[] = [];
  for (const v of ds) {
    const query = queryText(v);
    const names = new Set([`${query.toLowerCase()}_datasource`]);
    const labels = new Set([`${titleCase(query)} data source`]);
    if (ds.length === 1) {
      names.add("datasource");
      labels.add("Data source");
    }
    if (!names.has(v.name)) findings.push({ rule, message: `data source variable ${v.name} should be named ${[...names].join(" or ")}` });
    if (!labels.has(v.label ?? "")) findings.push({ rule, message: `data source variable ${v.name} should be labelled ${[...labels].join(" or ")}` });
  }
  return findings;
}

/**
 * Query variables: a known function whose series argument parses and whose label is a label name.
 *
 * @example
 * ```ts
 * templateLabelPromqlRule(dashboard); // [] when it holds
 * ```
 */
export function templateLabelPromqlRule(d: LintDashboard): LintFinding[] {
  const rule = "template-label-promql-rule";
  const findings: LintFinding[] = [];
  for (const v of variables(d).filter((x) => x.type === "query")) {
    const query = queryText(v).trim();
    const call = /^([a-z_]+)\((.*)\)$/s.exec(query);
    if (call === null || !VARIABLE_FUNCTIONS.has(call[1]!)) {
      findings.push({ rule, message: `variable ${v.name}: not a Prometheus variable query: ${query}` });
      continue;
    }
    let expr = call[2]!.trim();
    if (call[1] === "label_values") {
      // label_values(label) or label_values(series, label): the label is after the last comma.
      const comma = expr.lastIndexOf(",");
      const label = (comma < 0 ? expr : expr.slice(comma + 1)).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(label)) findings.push({ rule, message: `variable ${v.name}: ${JSON.stringify(label)} is not a label name` });
      expr = comma < 0 ? "" : expr.slice(0, comma).trim();
    }
    if (expr === "") continue;
    const errors = promqlSyntaxErrors(expandGrafanaVariables(expr, lintValues(d)));
    if (errors.length > 0) findings.push({ rule, message: `variable ${v.name}: ${expr} does not parse (near ${JSON.stringify(errors[0]!.near)})` });
  }
  return findings;
}

/**
 * Query variables refresh when the time range changes (refresh 2), so values seen in the range are offered.
 *
 * @example
 * ```ts
 * templateOnTimeChangeReloadRule(dashboard); // [] when it holds
 * ```
 */
export function templateOnTimeChangeReloadRule(d: LintDashboard): LintFinding[] {
  return variables(d)
    .filter((v) => v.type === "query" && v.refresh !== 2)
    .map((v) => ({ rule: "template-on-time-change-reload-rule", message: `variable ${v.name} has refresh ${v.refresh}, not 2 (on time range change)` }));
}

/**
 * Query variables are used by at least one query.
 *
 * @example
 * ```ts
 * templateUnusedRule(dashboard); // [] when it holds
 * ```
 */
export function templateUnusedRule(d: LintDashboard): LintFinding[] {
  const used = new Set(allPanels(d).flatMap((p) => (p.targets ?? []).flatMap((t) => variablesIn(t.expr ?? ""))));
  return variables(d)
    .filter((v) => v.type === "query" && !used.has(v.name))
    .map((v) => ({ rule: "template-unused-rule", message: `variable ${v.name} is used by no query` }));
}

/**
 * The dashboard is not editable: it is provisioned from a file, and edits in the UI would be lost.
 *
 * @example
 * ```ts
 * uneditableDashboardRule(dashboard); // [] when it holds
 * ```
 */
export function uneditableDashboardRule(d: LintDashboard): LintFinding[] {
  return d.editable === false ? [] : [{ rule: "uneditable-dashboard-rule", message: `editable is ${d.editable}, should be false` }];
}

const templated = (uid: string | undefined, d: LintDashboard) =>
  variables(d).some((v) => v.type === "datasource" && (uid === `$${v.name}` || uid === `\${${v.name}}`));

/**
 * Every panel and every query uses the templated data source.
 *
 * @example
 * ```ts
 * panelDatasourceRule(dashboard); // [] when it holds
 * ```
 */
export function panelDatasourceRule(d: LintDashboard): LintFinding[] {
  const rule = "panel-datasource-rule";
  const findings: LintFinding[] = [];
  for (const p of allPanels(d)) {
    if (!templated(p.datasource?.uid, d)) findings.push({ rule, panel: p.title, message: `uses data source ${JSON.stringify(p.datasource?.uid)}, not $${DATASOURCE_VARIABLE}` });
    for (const t of p.targets ?? []) {
      if (!templated(t.datasource?.uid, d)) findings.push({ rule, panel: p.title, refId: t.refId, message: `query uses data source ${JSON.stringify(t.datasource?.uid)}` });
    }
  }
  return findings;
}

/**
 * Every panel has a title and a description (the linter checks some panel types; this checks all).
 *
 * @example
 * ```ts
 * panelTitleDescriptionRule(dashboard); // [] when it holds
 * ```
 */
export function panelTitleDescriptionRule(d: LintDashboard): LintFinding[] {
  return allPanels(d)
    .filter((p) => !(p.title ?? "").trim() || !(p.description ?? "").trim())
    .map((p) => ({ rule: "panel-title-description-rule", panel: p.title, message: `panel ${p.id} lacks a title or a description` }));
}

/**
 * Every panel has a known unit by default, and every unit override is a known unit.
 *
 * @example
 * ```ts
 * panelUnitsRule(dashboard); // [] when it holds
 * ```
 */
export function panelUnitsRule(d: LintDashboard): LintFinding[] {
  const rule = "panel-units-rule";
  const findings: LintFinding[] = [];
  for (const p of allPanels(d)) {
    const unit = p.fieldConfig?.defaults?.unit;
    if (unit === undefined || !VALID_UNITS.has(unit)) findings.push({ rule, panel: p.title, message: `unit ${JSON.stringify(unit)} is missing or not a Grafana unit` });
    for (const o of p.fieldConfig?.overrides ?? []) {
      for (const prop of o.properties ?? []) {
        if (prop.id === "unit" && !VALID_UNITS.has(String(prop.value))) findings.push({ rule, panel: p.title, message: `override unit ${JSON.stringify(prop.value)} is not a Grafana unit` });
      }
    }
  }
  return findings;
}

/**
 * Every panel has at least one query.
 *
 * @example
 * ```ts
 * panelNoTargetsRule(dashboard); // [] when it holds
 * ```
 */
export function panelNoTargetsRule(d: LintDashboard): LintFinding[] {
  return allPanels(d)
    .filter((p) => (p.targets ?? []).length === 0)
    .map((p) => ({ rule: "panel-no-targets-rule", panel: p.title, message: "has no query" }));
}

/**
 * Panel ids are set and unique (rows included); refIds are set and unique within a panel.
 *
 * @example
 * ```ts
 * stableIdsRule(dashboard); // [] when it holds
 * ```
 */
export function stableIdsRule(d: LintDashboard): LintFinding[] {
  const rule = "stable-ids-rule";
  const findings: LintFinding[] = [];
  const seen = new Map<number, string>();
  for (const p of allPanelsAndRows(d)) {
    if (typeof p.id !== "number" || !Number.isInteger(p.id) || p.id <= 0) {
      findings.push({ rule, panel: p.title, message: `id ${JSON.stringify(p.id)} is not a positive integer` });
      continue;
    }
    if (seen.has(p.id)) findings.push({ rule, panel: p.title, message: `id ${p.id} is also the id of ${seen.get(p.id)}` });
    seen.set(p.id, p.title ?? "");
  }
  for (const p of allPanels(d)) {
    const refIds = (p.targets ?? []).map((t) => t.refId);
    refIds.forEach((r, i) => {
      if (typeof r !== "string" || !/^[A-Z]$/.test(r)) findings.push({ rule, panel: p.title, message: `query ${i} has refId ${JSON.stringify(r)}, not one capital letter` });
    });
    if (new Set(refIds).size !== refIds.length) findings.push({ rule, panel: p.title, message: `refIds repeat: ${refIds.join(", ")}` });
  }
  return findings;
}

/**
 * The uid is set and fits Grafana's limits (at most 40 characters of `[A-Za-z0-9_-]`).
 *
 * @example
 * ```ts
 * uidRule(dashboard); // [] when it holds
 * ```
 */
export function uidRule(d: LintDashboard): LintFinding[] {
  return typeof d.uid === "string" && /^[A-Za-z0-9_-]{1,40}$/.test(d.uid)
    ? []
    : [{ rule: "uid-rule", message: `uid ${JSON.stringify(d.uid)} is not 1-40 characters of [A-Za-z0-9_-]` }];
}

interface ParsedTarget {
  panel: LintPanel;
  target: LintTarget;
  expanded: string;
}

function parsedTargets(d: LintDashboard): { parsed: ParsedTarget[]; findings: LintFinding[] } {
  const values = lintValues(d);
  const parsed: ParsedTarget[] = [];
  const findings: LintFinding[] = [];
  for (const panel of allPanels(d)) {
    for (const target of panel.targets ?? []) {
      const at = { rule: "target-promql-rule", panel: panel.title, refId: target.refId };
      let expanded: string;
      try {
        expanded = expandGrafanaVariables(target.expr ?? "", values);
      } catch (error) {
        findings.push({ ...at, message: (error as Error).message });
        continue;
      }
      const errors = promqlSyntaxErrors(expanded);
      if (errors.length > 0) {
        findings.push({ ...at, message: `does not parse near ${JSON.stringify(errors[0]!.near)}: ${target.expr}` });
        continue;
      }
      parsed.push({ panel, target, expanded });
    }
  }
  return { parsed, findings };
}

const rangeName = (range: string | undefined) => {
  for (const [name, value] of Object.entries(LINT_VARIABLE_VALUES)) if (range === value) return `$${name}`;
  return range;
};

/**
 * Every query parses, after Grafana's variables are replaced.
 *
 * @example
 * ```ts
 * targetPromqlRule(dashboard); // [] when it holds
 * ```
 */
export function targetPromqlRule(d: LintDashboard): LintFinding[] {
  return parsedTargets(d).findings;
}

/**
 * Ranges of `rate`, `irate` and `increase` are `$__rate_interval`, which
 * Grafana keeps at least four scrape intervals and one step; an instant
 * query may use `$__range` (one window: the whole time range). Any other
 * range needs an exception.
 *
 * @example
 * ```ts
 * targetRateIntervalRule(dashboard); // [] when it holds
 * ```
 */
export function targetRateIntervalRule(d: LintDashboard): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const { panel, target, expanded } of parsedTargets(d).parsed) {
    for (const s of selectorsOf(expanded)) {
      if (s.range === undefined || !RATE_FUNCTIONS.has(s.rangeFunction ?? "")) continue;
      const range = rangeName(s.range);
      if (range === "$__rate_interval") continue;
      if (range === "$__range" && target.instant === true) continue;
      findings.push({
        rule: "target-rate-interval-rule",
        panel: panel.title,
        refId: target.refId,
        message: `${s.rangeFunction}() over [${range}], not [$__rate_interval]${target.instant ? " or [$__range]" : ""}`,
      });
    }
  }
  return findings;
}

/**
 * Counters (and histogram parts) appear only as the range argument of rate, irate or increase.
 *
 * @example
 * ```ts
 * targetCounterAggRule(dashboard); // [] when it holds
 * ```
 */
export function targetCounterAggRule(d: LintDashboard): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const { panel, target, expanded } of parsedTargets(d).parsed) {
    for (const s of selectorsOf(expanded)) {
      const metric = s.metric ?? "";
      if (!COUNTER_SUFFIXES.some((suffix) => metric.endsWith(suffix))) continue;
      if (s.range !== undefined && COUNTER_FUNCTIONS.has(s.rangeFunction ?? "")) continue;
      findings.push({ rule: "target-counter-agg-rule", panel: panel.title, refId: target.refId, message: `counter ${metric} is not inside rate, irate or increase` });
    }
  }
  return findings;
}

/**
 * Histogram buckets are read only through histogram_quantile.
 *
 * @example
 * ```ts
 * targetHistogramRule(dashboard); // [] when it holds
 * ```
 */
export function targetHistogramRule(d: LintDashboard): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const { panel, target, expanded } of parsedTargets(d).parsed) {
    for (const s of selectorsOf(expanded)) {
      if (!(s.metric ?? "").endsWith("_bucket") || s.enclosingFunctions.includes("histogram_quantile")) continue;
      findings.push({ rule: "target-histogram-rule", panel: panel.title, refId: target.refId, message: `${s.metric} is not inside histogram_quantile` });
    }
  }
  return findings;
}

/**
 * With `requiredJob`, every selector matches that job exactly (this
 * project's form of target-job-rule: one fixed job instead of a `$job`
 * variable), except the `jobExempt` metrics.
 *
 * @example
 * ```ts
 * targetFixedJobRule(dashboard, "etl-metrics", ["ALERTS"]); // [] when it holds
 * ```
 */
export function targetFixedJobRule(d: LintDashboard, job: string, exempt: readonly string[] = []): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const { panel, target, expanded } of parsedTargets(d).parsed) {
    for (const s of selectorsOf(expanded)) {
      if (exempt.includes(s.metric ?? "")) continue;
      if (s.matchers.some((m) => m.name === "job" && m.op === "=" && m.value === job)) continue;
      findings.push({ rule: "target-job-rule", panel: panel.title, refId: target.refId, message: `${s.text} does not select job="${job}"` });
    }
  }
  return findings;
}

const excuses = (e: LintException, f: LintFinding) =>
  e.rule === f.rule && e.panel === f.panel && (e.refId === undefined || e.refId === f.refId);

/**
 * Every rule's findings for `dashboard`, less the excused ones, plus one
 * finding per exception that excuses nothing or gives no reason.
 *
 * @example
 * ```ts
 * lintDashboard(dashboard, { exceptions: [], requiredJob: "etl-metrics", jobExempt: ["ALERTS"] }); // []
 * ```
 */
export function lintDashboard(dashboard: LintDashboard, options: LintOptions): LintFinding[] {
  const all = [
    ...templateDatasourceRule(dashboard),
    ...templateLabelPromqlRule(dashboard),
    ...templateOnTimeChangeReloadRule(dashboard),
    ...templateUnusedRule(dashboard),
    ...uneditableDashboardRule(dashboard),
    ...uidRule(dashboard),
    ...panelDatasourceRule(dashboard),
    ...panelTitleDescriptionRule(dashboard),
    ...panelUnitsRule(dashboard),
    ...panelNoTargetsRule(dashboard),
    ...stableIdsRule(dashboard),
    ...targetPromqlRule(dashboard),
    ...targetRateIntervalRule(dashboard),
    ...targetCounterAggRule(dashboard),
    ...targetHistogramRule(dashboard),
    ...(options.requiredJob === undefined ? [] : targetFixedJobRule(dashboard, options.requiredJob, options.jobExempt)),
  ];
  const kept = all.filter((f) => !options.exceptions.some((e) => excuses(e, f)));
  for (const e of options.exceptions) {
    const where = `${e.panel}${e.refId ? ` ${e.refId}` : ""}`;
    if (e.reason.trim().length < 20) kept.push({ rule: "lint-exception", panel: e.panel, refId: e.refId, message: `the exception to ${e.rule} for ${where} gives no real reason` });
    if (!all.some((f) => excuses(e, f))) kept.push({ rule: "lint-exception", panel: e.panel, refId: e.refId, message: `the exception to ${e.rule} for ${where} excuses nothing: remove it` });
  }
  return kept;
}
