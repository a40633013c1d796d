// Each rule is shown to catch what it is for, on small dashboards made
// wrong on purpose, so a clean result on the real dashboard means something.
import { describe, expect, it } from "vitest";
import {
  allPanels,
  type LintDashboard,
  lintDashboard,
  type LintPanel,
  panelDatasourceRule,
  panelNoTargetsRule,
  panelTitleDescriptionRule,
  panelUnitsRule,
  stableIdsRule,
  targetCounterAggRule,
  targetFixedJobRule,
  targetHistogramRule,
  targetPromqlRule,
  targetRateIntervalRule,
  templateDatasourceRule,
  templateLabelPromqlRule,
  templateOnTimeChangeReloadRule,
  templateUnusedRule,
  uidRule,
  uneditableDashboardRule,
} from "./lint.ts";

const DS = { type: "prometheus", uid: "${datasource}" };

function panel(expr: string, more: Partial<LintPanel> = {}, target: Record<string, unknown> = {}): LintPanel {
  return {
    id: 1,
    type: "timeseries",
    title: "P",
    description: "Why? Because.",
    datasource: DS,
    fieldConfig: { defaults: { unit: "s" }, overrides: [] },
    targets: [{ refId: "A", expr, datasource: DS, ...target }],
    ...more,
  };
}

function dashboard(panels: LintPanel[], more: Partial<LintDashboard> = {}): LintDashboard {
  return {
    uid: "etl-monitoring",
    editable: false,
    templating: {
      list: [
        { name: "datasource", type: "datasource", label: "Data source", query: "prometheus" },
        { name: "pipeline", type: "query", query: 'label_values(up{job="j"}, pipeline)', datasource: DS, refresh: 2, multi: true },
      ],
    },
    panels,
    ...more,
  };
}

const good = () => dashboard([panel('sum by (pipeline) (rate(x_total{job="j", pipeline=~"$pipeline"}[$__rate_interval]))')]);
const rules = (findings: { rule: string }[]) => findings.map((f) => f.rule);

describe("a clean dashboard", () => {
  it("has no finding", () => {
    expect(lintDashboard(good(), { exceptions: [], requiredJob: "j" })).toEqual([]);
  });
});

describe("template rules", () => {
  it("want one data source variable, named and labelled as the linter says", () => {
    expect(templateDatasourceRule(dashboard([], { templating: { list: [] } }))).toHaveLength(1);
    const wrong = dashboard([], { templating: { list: [{ name: "ds", type: "datasource", label: "DS", query: "prometheus" }] } });
    expect(templateDatasourceRule(wrong).map((f) => f.message)).toEqual([
      "data source variable ds should be named prometheus_datasource or datasource",
      "data source variable ds should be labelled Prometheus data source or Data source",
    ]);
    const two = dashboard([], {
      templating: {
        list: [
          { name: "prometheus_datasource", type: "datasource", label: "Prometheus data source", query: "prometheus" },
          { name: "datasource", type: "datasource", label: "Data source", query: "loki" },
        ],
      },
    });
    // With two, each must be named after its type.
    expect(rules(templateDatasourceRule(two))).toEqual(["template-datasource-rule", "template-datasource-rule"]);
  });

  it("parse query variables", () => {
    const with_ = (query: string) => dashboard([], { templating: { list: [{ name: "v", type: "query", query, refresh: 2 }] } });
    expect(templateLabelPromqlRule(with_('label_values(up{job="j"}, pipeline)'))).toEqual([]);
    expect(templateLabelPromqlRule(with_("label_values(pipeline)"))).toEqual([]);
    expect(templateLabelPromqlRule(with_("query_result(max by (p) (max_over_time(up[$__range])))"))).toEqual([]);
    expect(templateLabelPromqlRule(with_("label_values(up{, pipeline)"))).toHaveLength(1);
    expect(templateLabelPromqlRule(with_("label_values(up, pipe-line)"))).toHaveLength(1);
    expect(templateLabelPromqlRule(with_("foo(up, pipeline)"))).toHaveLength(1);
  });

  it("want query variables to refresh on a time range change", () => {
    const d = good();
    d.templating!.list![1]!.refresh = 1;
    expect(rules(templateOnTimeChangeReloadRule(d))).toEqual(["template-on-time-change-reload-rule"]);
  });

  it("want every query variable used", () => {
    expect(rules(templateUnusedRule(dashboard([panel("up")])))).toEqual(["template-unused-rule"]);
    expect(templateUnusedRule(dashboard([panel('up{p=~"${pipeline}"}')]))).toEqual([]);
  });
});

describe("dashboard rules", () => {
  it("want it not editable and with a valid uid", () => {
    expect(rules(uneditableDashboardRule({ editable: true }))).toEqual(["uneditable-dashboard-rule"]);
    expect(rules(uneditableDashboardRule({}))).toEqual(["uneditable-dashboard-rule"]);
    expect(uidRule({ uid: "etl-monitoring" })).toEqual([]);
    expect(rules(uidRule({ uid: "x".repeat(41) }))).toEqual(["uid-rule"]);
    expect(rules(uidRule({}))).toEqual(["uid-rule"]);
  });
});

describe("panel rules", () => {
  it("want the templated data source on panels and queries", () => {
    expect(rules(panelDatasourceRule(dashboard([panel("up", { datasource: { uid: "prometheus" } })])))).toEqual(["panel-datasource-rule"]);
    expect(rules(panelDatasourceRule(dashboard([panel("up", {}, { datasource: { uid: "prometheus" } })])))).toEqual(["panel-datasource-rule"]);
    expect(panelDatasourceRule(dashboard([panel("up", { datasource: { uid: "$datasource" } })]))).toEqual([]);
  });

  it("want a title and a description", () => {
    expect(rules(panelTitleDescriptionRule(dashboard([panel("up", { description: " " })])))).toEqual(["panel-title-description-rule"]);
    expect(rules(panelTitleDescriptionRule(dashboard([panel("up", { title: "" })])))).toEqual(["panel-title-description-rule"]);
  });

  it("want a known unit, in the defaults and in overrides", () => {
    expect(rules(panelUnitsRule(dashboard([panel("up", { fieldConfig: { defaults: {} } })])))).toEqual(["panel-units-rule"]);
    expect(rules(panelUnitsRule(dashboard([panel("up", { fieldConfig: { defaults: { unit: "records" } } })])))).toEqual(["panel-units-rule"]);
    const override = { defaults: { unit: "s" }, overrides: [{ properties: [{ id: "unit", value: "furlongs" }] }] };
    expect(rules(panelUnitsRule(dashboard([panel("up", { fieldConfig: override })])))).toEqual(["panel-units-rule"]);
  });

  it("want at least one query", () => {
    expect(rules(panelNoTargetsRule(dashboard([panel("up", { targets: [] })])))).toEqual(["panel-no-targets-rule"]);
  });

  it("want unique ids and one-letter unique refIds, rows and nested panels included", () => {
    const row: LintPanel = { id: 1, type: "row", title: "R", panels: [panel("up", { id: 2 })] };
    expect(stableIdsRule(dashboard([row, panel("up", { id: 3 })]))).toEqual([]);
    expect(allPanels(dashboard([row]))).toHaveLength(1);
    expect(rules(stableIdsRule(dashboard([row, panel("up", { id: 2 })])))).toEqual(["stable-ids-rule"]);
    expect(rules(stableIdsRule(dashboard([panel("up", { id: undefined })])))).toEqual(["stable-ids-rule"]);
    const twice = panel("up", { targets: [{ refId: "A", expr: "up" }, { refId: "A", expr: "up" }] });
    expect(rules(stableIdsRule(dashboard([twice])))).toEqual(["stable-ids-rule"]);
    expect(rules(stableIdsRule(dashboard([panel("up", {}, { refId: "first" })])))).toEqual(["stable-ids-rule"]);
  });
});

describe("target rules", () => {
  it("want every query to parse, with a value for each variable", () => {
    expect(rules(targetPromqlRule(dashboard([panel("sum(rate(x[$__rate_interval])")])))).toEqual(["target-promql-rule"]);
    expect(rules(targetPromqlRule(dashboard([panel('up{p=~"$pipelin"}')])))).toEqual(["target-promql-rule"]);
    expect(targetPromqlRule(dashboard([panel("increase(x[$__range]) + rate(y[${__rate_interval}])")]))).toEqual([]);
  });

  it("want $__rate_interval in rate, irate and increase, and allow $__range in instant queries", () => {
    expect(rules(targetRateIntervalRule(dashboard([panel("rate(x_total[5m])")])))).toEqual(["target-rate-interval-rule"]);
    expect(rules(targetRateIntervalRule(dashboard([panel("irate(x_total[$__interval])")])))).toEqual(["target-rate-interval-rule"]);
    expect(rules(targetRateIntervalRule(dashboard([panel("increase(x_total[1h])")])))).toEqual(["target-rate-interval-rule"]);
    expect(rules(targetRateIntervalRule(dashboard([panel("increase(x_total[$__range])")])))).toEqual(["target-rate-interval-rule"]);
    expect(targetRateIntervalRule(dashboard([panel("increase(x_total[$__range])", {}, { instant: true })]))).toEqual([]);
    expect(targetRateIntervalRule(dashboard([panel("max_over_time(x[5m])")]))).toEqual([]);
  });

  it("want counters and histogram parts inside rate, irate or increase", () => {
    for (const expr of ["x_total", "sum(x_total)", "x_count / x_sum", "max_over_time(x_total[$__rate_interval])", "rate(x_total[$__rate_interval]) + y_total"]) {
      expect(rules(targetCounterAggRule(dashboard([panel(expr)]))).length, expr).toBeGreaterThan(0);
    }
    expect(targetCounterAggRule(dashboard([panel("sum by (p) (rate(x_total[$__rate_interval]))")]))).toEqual([]);
    expect(targetCounterAggRule(dashboard([panel("rate(x_sum[$__rate_interval]) / rate(x_count[$__rate_interval])")]))).toEqual([]);
  });

  it("want buckets inside histogram_quantile", () => {
    expect(rules(targetHistogramRule(dashboard([panel("sum(rate(x_bucket[$__rate_interval]))")])))).toEqual(["target-histogram-rule"]);
    expect(targetHistogramRule(dashboard([panel("histogram_quantile(0.9, sum by (le) (rate(x_bucket[$__rate_interval])))")]))).toEqual([]);
  });

  it("want the fixed job on every selector but the exempt ones", () => {
    const d = dashboard([panel('rate(x_total{job="j"}[$__rate_interval]) / up{job=~"j"} + ALERTS')]);
    expect(targetFixedJobRule(d, "j", ["ALERTS"]).map((f) => f.message)).toEqual(['up{job=~"j"} does not select job="j"']);
  });
});

describe("exceptions", () => {
  const raw = () => dashboard([panel('x_total{job="j", p=~"$pipeline"}', { title: "Totals" })]);

  it("excuse a finding with a reason, for one refId or the whole panel", () => {
    expect(rules(lintDashboard(raw(), { exceptions: [] }))).toEqual(["target-counter-agg-rule"]);
    const reason = "raw totals are what this panel is for";
    expect(lintDashboard(raw(), { exceptions: [{ rule: "target-counter-agg-rule", panel: "Totals", reason }] })).toEqual([]);
    expect(lintDashboard(raw(), { exceptions: [{ rule: "target-counter-agg-rule", panel: "Totals", refId: "A", reason }] })).toEqual([]);
    expect(rules(lintDashboard(raw(), { exceptions: [{ rule: "target-counter-agg-rule", panel: "Totals", refId: "B", reason }] }))).toEqual([
      "target-counter-agg-rule",
      "lint-exception",
    ]);
  });

  it("are findings themselves when they excuse nothing or give no reason", () => {
    const stale = lintDashboard(good(), { exceptions: [{ rule: "target-counter-agg-rule", panel: "P", reason: "it used to be needed, long ago" }] });
    expect(stale.map((f) => f.message)).toEqual(["the exception to target-counter-agg-rule for P excuses nothing: remove it"]);
    const lazy = lintDashboard(raw(), { exceptions: [{ rule: "target-counter-agg-rule", panel: "Totals", reason: "ok" }] });
    expect(rules(lazy)).toEqual(["lint-exception"]);
  });
});
