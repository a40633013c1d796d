/**
 * The ETL monitoring dashboard, written with Grafana's typed builders
 * (`@grafana/grafana-foundation-sdk`), generated into
 * `grafana/dashboards/etl-monitoring.json` by `commands/build/dashboards.ts`
 * (`npm run build:dashboards`); a test fails when that file is stale.
 *
 * Conventions (checked by `lib/dashboard/dashboard.test.ts`, after Grafana's
 * dashboard linter): a data source variable that every panel and query
 * uses; `$__rate_interval` in every `rate`, `$__range` in instant totals,
 * one reasoned fixed window; counters never plotted raw except where a
 * panel says why; a unit and a description (which opens with the question
 * the panel answers) on every panel; ids and refIds set here, never
 * generated; not editable, since it is provisioned from a file.
 *
 * Every ETL query reads only the exporter's job (see {@linkcode EXPORTER_JOB}).
 *
 * One file on purpose, over 400 lines: the rows and panels in the order they
 * are laid out, so reading it from the top is reading the dashboard.
 *
 * @example
 * ```ts
 * import { buildDashboard, dashboardJson } from "./dashboard.ts";
 * buildDashboard().uid; // "etl-monitoring"
 * dashboardJson().endsWith("}\n"); // true
 * ```
 * @module
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  GraphDrawStyle,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  LineInterpolation,
  ReduceDataOptionsBuilder,
  SortOrder,
  TableCellDisplayMode,
  TableSortByFieldStateBuilder,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  type DataTransformerConfig,
  DatasourceVariableBuilder,
  type DynamicConfigValue,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  TimePickerBuilder,
  type ValueMapping,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { PieChartLabels, PanelBuilder as PieChartPanelBuilder, PieChartLegendOptionsBuilder, PieChartLegendValues, PieChartType } from "@grafana/grafana-foundation-sdk/piechart";
import { DataqueryBuilder, PromQueryFormat, QueryEditorMode } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as StateTimelinePanelBuilder } from "@grafana/grafana-foundation-sdk/statetimeline";
import { PanelBuilder as TablePanelBuilder } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { alertDefinitions, PRODUCTION_ALERT_PARAMS } from "../alerts/rules.ts";
import { DATASOURCE_VARIABLE, etlSelector, EXPORTER_JOB, PIPELINE_VARIABLE, zeroPerAlert } from "./promql.ts";

/**
 * The dashboard's uid: its address is `/d/etl-monitoring`.
 *
 * @example
 * ```ts
 * `http://127.0.0.1:3000/d/${DASHBOARD_UID}`;
 * ```
 */
export const DASHBOARD_UID = "etl-monitoring";

/**
 * Where the generated JSON is committed, relative to the repository root.
 *
 * @example
 * ```ts
 * readFileSync(DASHBOARD_PATH, "utf8") === dashboardJson(); // true unless stale
 * ```
 */
export const DASHBOARD_PATH = "grafana/dashboards/etl-monitoring.json";

/**
 * The uid of the provisioned Prometheus data source
 * (`grafana/provisioning/datasources/prometheus.yml`), the variable's default.
 *
 * @example
 * ```ts
 * PROMETHEUS_DATASOURCE_UID; // "prometheus"
 * ```
 */
export const PROMETHEUS_DATASOURCE_UID = "prometheus";

/**
 * Every panel's id, by title. Ids are part of the dashboard's URLs
 * (`viewPanel=5`) and of links people share, so they are fixed here and a
 * test holds them: never renumber, only add.
 *
 * @example
 * ```ts
 * PANEL_IDS["Processing Rate"]; // 5
 * ```
 */
export const PANEL_IDS = {
  "Health Status": 1,
  "Time Since Last Success": 2,
  "Total Failures": 3,
  "Alerts Firing": 4,
  "Processing Rate": 5,
  "Processing Activity (5-minute increments)": 6,
  "Cumulative Counts": 7,
  "Error Types Distribution": 8,
  "Average Processing Time": 9,
  "Processing Time Percentiles": 10,
  "Pipelines": 11,
  "Health History": 12,
  "Alert Rules": 13,
  "Alert History": 14,
  "Exporter Status": 15,
  "Checkpoint Age": 16,
  "Log Lines Skipped": 17,
  "Log Lines Read": 18,
  "Run States": 19,
  "Freshness": 20,
  "Records and Duration per Run": 21,
  "Late Pipelines": 22,
} as const;

/**
 * The panels about runs of batch pipelines: they show the pipelines that
 * have runs (an always-on service has one that never ends), so the live
 * query test selects a batch pipeline for them.
 *
 * @example
 * ```ts
 * BATCH_PANEL_TITLES.includes("Freshness"); // true
 * ```
 */
export const BATCH_PANEL_TITLES: readonly PanelTitle[] = ["Freshness", "Records and Duration per Run", "Late Pipelines"];

/**
 * The rows' ids, by title (rows are panels too, with ids of their own).
 *
 * @example
 * ```ts
 * ROW_IDS.Overview; // 101
 * ```
 */
export const ROW_IDS = {
  "Overview": 101,
  "Throughput": 102,
  "Processing time": 103,
  "Pipelines": 104,
  "Alerts": 105,
  "Exporter": 106,
  "Batch runs": 107,
} as const;

/**
 * A panel title of {@linkcode PANEL_IDS}.
 *
 * @example
 * ```ts
 * const title: PanelTitle = "Health Status";
 * ```
 */
export type PanelTitle = keyof typeof PANEL_IDS;

const DATASOURCE = { type: "prometheus", uid: `\${${DATASOURCE_VARIABLE}}` };
const PIPELINE_LEGEND = "{{pipeline}}";

interface QueryOptions {
  legend?: string;
  /** One evaluation at the end of the range (stats, tables, pie charts). */
  instant?: boolean;
  table?: boolean;
}

// Every query is written as PromQL text (editorMode code) with its refId
// fixed here: overrides and transformations refer to refIds.
function query(refId: string, expr: string, options: QueryOptions = {}): DataqueryBuilder {
  const q = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(refId)
    .expr(expr)
    .editorMode(QueryEditorMode.Code)
    .legendFormat(options.legend ?? "__auto");
  if (options.instant) q.instant();
  else q.range();
  if (options.table) q.format(PromQueryFormat.Table);
  return q;
}

function thresholds(steps: Threshold[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

// The base step of Grafana's thresholds has no lower bound: value null.
const base = (color: string): Threshold => ({ value: null, color });

function valueText(entries: Record<string, [text: string, color: string]>): ValueMapping {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  Object.entries(entries).forEach(([value, [text, color]], index) => (options[value] = { text, color, index }));
  return { type: MappingType.ValueToText, options };
}

const HEALTH_MAPPING = valueText({ "1": ["Healthy", "green"], "0": ["Unhealthy", "red"] });

// Values of the alert-state expression below: 0 quiet, 1 pending, 2 firing.
const ALERT_STATE_MAPPING = valueText({ "0": ["OK", "green"], "1": ["Pending", "orange"], "2": ["Firing", "red"] });

const ALERTS_SELECTOR = (state: "firing" | "pending") => `ALERTS{alertstate="${state}", pipeline=~"$${PIPELINE_VARIABLE}|"}`;

/**
 * The state of every alert rule: one series per firing or pending alert
 * (2 firing, 1 pending) with its `alertname`, `severity` and `pipeline`,
 * and a 0 for each rule with neither, so the table and the timeline list
 * all six rules at all times instead of going blank when all is well.
 * `pipeline=~"$pipeline|"` keeps the endpoint alerts, which have no
 * pipeline label, whatever pipelines are selected.
 *
 * @example
 * ```ts
 * alertStateExpr().startsWith("max by (alertname, severity, pipeline)"); // true
 * ```
 */
export function alertStateExpr(): string {
  const rules = [...new Set(alertDefinitions(PRODUCTION_ALERT_PARAMS).map((a) => a.name))];
  return `max by (alertname, severity, pipeline) ((${ALERTS_SELECTOR("firing")} * 2) or ${ALERTS_SELECTOR("pending")})` +
    ` or on (alertname) (${zeroPerAlert(rules)})`;
}

function statOptions<T extends StatPanelBuilder>(panel: T): T {
  return panel
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false).fields(""))
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName);
}

function timeseriesDefaults(panel: TimeseriesPanelBuilder): TimeseriesPanelBuilder {
  return panel
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(true))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .lineInterpolation(LineInterpolation.Linear)
    .lineWidth(1)
    .fillOpacity(10);
}

// ---- Overview -------------------------------------------------------------

function healthStatus(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Health Status"])
    .title("Health Status")
    .description(
      "Is each pipeline healthy right now? etl_health_status: Healthy (1) unless no event, heartbeats included, " +
        "arrived for 60 s (the process died or hung) or its last 6 files all failed. " +
        "EtlHealthCheckFailed fires after 2 minutes Unhealthy; GET /health on the exporter says which reason holds.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", etlSelector("etl_health_status"), { legend: PIPELINE_LEGEND, instant: true }))
    .unit("none")
    .mappings([HEALTH_MAPPING])
    .thresholds(thresholds([base("red"), { value: 1, color: "green" }]))
    .colorMode(BigValueColorMode.Background)
    .span(6)
    .height(5);
}

function timeSinceLastSuccess(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Time Since Last Success"])
    .title("Time Since Last Success")
    .description(
      "How long ago did each pipeline last finish a file successfully? time() − etl_last_success_timestamp_seconds, " +
        "computed when the panel queries, the very number EtlNoSuccessIn10Minutes compares with 600 s (red). " +
        "Before any success it counts from the time the pipeline was first seen. Normal running stays under 4 minutes.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `time() - max by (pipeline) (${etlSelector("etl_last_success_timestamp_seconds")})`, {
      legend: PIPELINE_LEGEND,
      instant: true,
    }))
    .unit("s")
    .decimals(0)
    .thresholds(thresholds([base("green"), { value: 300, color: "orange" }, { value: 600, color: "red" }]))
    .colorMode(BigValueColorMode.Value)
    .span(6)
    .height(5);
}

function totalFailures(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Total Failures"])
    .title("Total Failures")
    .description(
      "How many files failed in the selected time range, per pipeline? increase(etl_failures_total) over the " +
        "dashboard's range ($__range). Prometheus extrapolates increase() to the edges of the range, so the figure " +
        "is rounded. About a third of the simulator's files fail by design; EtlHighFailureRate fires above 20 in 5 minutes. " +
        "The all-time totals are in Cumulative Counts.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `sum by (pipeline) (increase(${etlSelector("etl_failures_total")}[$__range]))`, {
      legend: PIPELINE_LEGEND,
      instant: true,
    }))
    .unit("short")
    .decimals(0)
    .thresholds(thresholds([base("text")]))
    .colorMode(BigValueColorMode.None)
    .span(6)
    .height(5);
}

function alertsFiring(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Alerts Firing"])
    .title("Alerts Firing")
    .description(
      "How many alerts are firing now? Firing alerts of the Prometheus rules (prometheus/rules/etl-alerts.yml) for the " +
        "selected pipelines, plus EtlMetricsEndpointDown, which has no pipeline. The query adds vector(0), so a quiet " +
        "stack shows 0, never No data. Which ones: Alert Rules below.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `count(${ALERTS_SELECTOR("firing")}) or vector(0)`, { legend: "firing", instant: true }))
    .unit("short")
    .decimals(0)
    .thresholds(thresholds([base("green"), { value: 1, color: "red" }]))
    .colorMode(BigValueColorMode.Background)
    .textMode(BigValueTextMode.Value)
    .span(6)
    .height(5);
}

// ---- Throughput -----------------------------------------------------------

function processingRate(): TimeseriesPanelBuilder {
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Processing Rate"])
    .title("Processing Rate")
    .description(
      "How many records per second is each pipeline processing? Solid: rate(etl_records_total) over $__rate_interval. " +
        "Dashed: the exporter's etl_current_rate_records_per_second (the reference stack's figure: the records of the " +
        "files finished in the last 60 s, divided by 60). Records count when their file finishes, so both move in steps " +
        "of a file. EtlLowThroughput fires under 1 record/s over 10 minutes.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `sum by (pipeline) (rate(${etlSelector("etl_records_total")}[$__rate_interval]))`, { legend: PIPELINE_LEGEND }))
    .withTarget(query("B", etlSelector("etl_current_rate_records_per_second"), { legend: "{{pipeline}} (exporter, last 60 s)" }))
    .overrideByQuery("B", [{ id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } }])
    .unit("cps")
    .axisLabel("records / s")
    .min(0)
    .span(12)
    .height(8);
}

function processingActivity(): TimeseriesPanelBuilder {
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Processing Activity (5-minute increments)"])
    .title("Processing Activity (5-minute increments)")
    .description(
      "How many files did each pipeline finish, and fail, in the 5 minutes before each point? increase() over a fixed " +
        "[5m] window, on purpose: the 5 minutes are what the panel shows, and $__rate_interval would change them " +
        "with the zoom. Compare with EtlHighFailureRate (over 20 failed files in 5 minutes).",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `sum by (pipeline) (increase(${etlSelector("etl_files_total")}[5m]))`, { legend: "{{pipeline}} processed" }))
    .withTarget(query("B", `sum by (pipeline) (increase(${etlSelector("etl_failures_total")}[5m]))`, { legend: "{{pipeline}} failed" }))
    .overrideByQuery("B", [{ id: "color", value: { mode: "fixed", fixedColor: "red" } }])
    .unit("short")
    .decimals(1)
    .axisLabel("files / 5 min")
    .min(0)
    .fillOpacity(25)
    .span(12)
    .height(8);
}

function cumulativeCounts(): TimeseriesPanelBuilder {
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Cumulative Counts"])
    .title("Cumulative Counts")
    .description(
      "How much has each pipeline done since the exporter first saw it? The raw counters etl_records_total (right axis), " +
        "etl_files_total and etl_failures_total, deliberately not rated: the exporter keeps them across its own restarts " +
        "(checkpoint), so they are the pipeline's running totals, and a drop means the checkpoint was lost. " +
        "For rates see Processing Rate and Processing Activity.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `sum by (pipeline) (${etlSelector("etl_records_total")})`, { legend: "{{pipeline}} records" }))
    .withTarget(query("B", `sum by (pipeline) (${etlSelector("etl_files_total")})`, { legend: "{{pipeline}} files processed" }))
    .withTarget(query("C", `sum by (pipeline) (${etlSelector("etl_failures_total")})`, { legend: "{{pipeline}} files failed" }))
    .overrideByQuery("A", [{ id: "custom.axisPlacement", value: "right" }, { id: "custom.axisLabel", value: "records" }])
    .unit("short")
    .axisLabel("files")
    .min(0)
    .fillOpacity(0)
    .span(12)
    .height(8);
}

function errorTypesDistribution(): PieChartPanelBuilder {
  return new PieChartPanelBuilder()
    .id(PANEL_IDS["Error Types Distribution"])
    .title("Error Types Distribution")
    .description(
      "Why do files fail? Failed files by error_type over the selected time range (increase of etl_errors_by_type_total " +
        "over $__range), the selected pipelines together. The five known categories are always listed, at 0 when " +
        "they did not occur; a pipeline with more than 32 distinct types has the rest folded into other.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `sum by (error_type) (increase(${etlSelector("etl_errors_by_type_total")}[$__range]))`, {
      legend: "{{error_type}}",
      instant: true,
    }))
    .unit("short")
    .decimals(0)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false).fields(""))
    .pieType(PieChartType.Donut)
    .displayLabels([PieChartLabels.Percent])
    .legend(
      new PieChartLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Right)
        .showLegend(true)
        .values([PieChartLegendValues.Value, PieChartLegendValues.Percent]),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Single).sort(SortOrder.None))
    .span(12)
    .height(8);
}

// ---- Processing time ------------------------------------------------------

function averageProcessingTime(): TimeseriesPanelBuilder {
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Average Processing Time"])
    .title("Average Processing Time")
    .description(
      "How long does a successful file take, on average? etl_avg_processing_time_seconds: the exporter's mean over the " +
        "files processed successfully in the last 5 minutes. A gap means no file succeeded in 5 minutes (the series is " +
        "absent then): look at Health Status and Time Since Last Success.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", etlSelector("etl_avg_processing_time_seconds"), { legend: PIPELINE_LEGEND }))
    .unit("s")
    .min(0)
    .span(12)
    .height(8);
}

/** The percentiles drawn by Processing Time Percentiles, with their refIds. */
const PERCENTILES: ReadonlyArray<readonly [refId: string, quantile: number, label: string]> = [
  ["A", 0.5, "p50"],
  ["B", 0.95, "p95"],
  ["C", 0.99, "p99"],
];

function processingTimePercentiles(): TimeseriesPanelBuilder {
  const slow = PRODUCTION_ALERT_PARAMS.slowProcessing.thresholdSeconds;
  const panel = timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Processing Time Percentiles"])
    .title("Processing Time Percentiles")
    .description(
      "How long do successful files take: the median, the 95th and the 99th percentile? histogram_quantile over the " +
        "histogram etl_file_processing_duration_seconds (buckets 1 s to 600 s) rated over $__rate_interval; it " +
        "interpolates within a bucket. A gap means no file succeeded in the window. The dashed red line is " +
        `EtlSlowProcessing's ${slow} s, which that alert compares with the p95 over 15 minutes.`,
    )
    .datasource(DATASOURCE);
  for (const [refId, q, label] of PERCENTILES) {
    panel.withTarget(query(
      refId,
      `histogram_quantile(${q}, sum by (pipeline, le) (rate(${etlSelector("etl_file_processing_duration_seconds_bucket")}[$__rate_interval])))`,
      { legend: `{{pipeline}} ${label}` },
    ));
  }
  return panel
    .unit("s")
    .min(0)
    .thresholds(thresholds([base("transparent"), { value: slow, color: "red" }]))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed))
    .span(12)
    .height(8);
}

// ---- Pipelines ------------------------------------------------------------

/** The columns of the Pipelines table: refId, header, unit, query. */
const PIPELINE_COLUMNS: ReadonlyArray<readonly [refId: string, header: string, unit: string, expr: string]> = [
  ["A", "Health", "none", `max by (pipeline) (${etlSelector("etl_health_status")})`],
  ["B", "Records", "short", `sum by (pipeline) (increase(${etlSelector("etl_records_total")}[$__range]))`],
  ["C", "Files processed", "short", `sum by (pipeline) (increase(${etlSelector("etl_files_total")}[$__range]))`],
  ["D", "Files failed", "short", `sum by (pipeline) (increase(${etlSelector("etl_failures_total")}[$__range]))`],
  ["E", "Since last success", "s", `time() - max by (pipeline) (${etlSelector("etl_last_success_timestamp_seconds")})`],
  ["F", "Uptime", "s", `max by (pipeline) (${etlSelector("etl_uptime_seconds")})`],
  ["G", "Starts", "short", `sum by (pipeline) (increase(${etlSelector("etl_starts_total")}[$__range]))`],
];

function pipelinesTable(): TablePanelBuilder {
  const panel = new TablePanelBuilder()
    .id(PANEL_IDS["Pipelines"])
    .title("Pipelines")
    .description(
      "How does each pipeline stand, side by side? One row per pipeline: health now; records, files processed, files " +
        "failed and process starts within the selected time range (increase over $__range, rounded); time since the " +
        "last success; uptime since the last etl_started (empty before one). More than one start in the range means " +
        "the job restarted.",
    )
    .datasource(DATASOURCE);
  const rename: Record<string, string> = {};
  const indexByName: Record<string, number> = { pipeline: 0 };
  PIPELINE_COLUMNS.forEach(([refId, header, unit, expr], i) => {
    panel.withTarget(query(refId, expr, { instant: true, table: true, legend: PIPELINE_LEGEND }));
    rename[`Value #${refId}`] = header;
    indexByName[`Value #${refId}`] = i + 1;
    const props: DynamicConfigValue[] = [{ id: "unit", value: unit }];
    if (unit === "short") props.push({ id: "decimals", value: 0 });
    if (header === "Health") props.push({ id: "mappings", value: [HEALTH_MAPPING] }, { id: "custom.cellOptions", value: { type: "color-background" } });
    panel.overrideByName(header, props);
  });
  const transformations: DataTransformerConfig[] = [
    { id: "merge", options: {} },
    { id: "organize", options: { excludeByName: { Time: true }, indexByName, renameByName: rename } },
  ];
  return panel
    .transformations(transformations)
    .cellOptions({ type: TableCellDisplayMode.Auto })
    .unit("short")
    .thresholds(thresholds([base("red"), { value: 1, color: "green" }]))
    .sortBy([new TableSortByFieldStateBuilder().displayName("pipeline").desc(false)])
    .span(24)
    .height(7);
}

function healthHistory(): StateTimelinePanelBuilder {
  return new StateTimelinePanelBuilder()
    .id(PANEL_IDS["Health History"])
    .title("Health History")
    .description(
      "When was each pipeline unhealthy, and for how long? etl_health_status over time. Short red stretches happen in " +
        "normal running (six failed files in a row, a few times a day with the simulator's failure rate); " +
        "EtlHealthCheckFailed needs 2 minutes.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `max by (pipeline) (${etlSelector("etl_health_status")})`, { legend: PIPELINE_LEGEND }))
    .unit("none")
    .mappings([HEALTH_MAPPING])
    .thresholds(thresholds([base("red"), { value: 1, color: "green" }]))
    .showValue(VisibilityMode.Never)
    .mergeValues(true)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(false))
    .span(24)
    .height(6);
}

// ---- Batch runs -------------------------------------------------------------

/** The pipeline states of etl_pipeline_state as numbers, in the order of the mapping below. */
const STATE_NUMBERS = ["idle", "running", "late", "failing", "stale"] as const;
const STATE_MAPPING = valueText({
  "0": ["Idle", "blue"],
  "1": ["Running", "green"],
  "2": ["Late", "orange"],
  "3": ["Failing", "red"],
  "4": ["Stale", "purple"],
});

function runStates(): StateTimelinePanelBuilder {
  // One number per pipeline: the state whose one-hot series is 1.
  const expr = `max by (pipeline) (${STATE_NUMBERS.map((state, i) =>
    `(${etlSelector("etl_pipeline_state", { extra: [`state="${state}"`] })} == 1) * ${i}`
  ).join(" or ")})`;
  return new StateTimelinePanelBuilder()
    .id(PANEL_IDS["Run States"])
    .title("Run States")
    .description(
      "What was each pipeline doing, and when? etl_pipeline_state over time: Running while a run is in progress " +
        "(an always-on service always is), Idle between runs, Late past its deadline with no successful run " +
        "(EtlPipelineLate), Failing when its last run failed or its last files all failed, Stale when a run in " +
        "progress went silent for 60 s. GET /health on the exporter says why.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", expr, { legend: PIPELINE_LEGEND }))
    .unit("none")
    .mappings([STATE_MAPPING])
    .showValue(VisibilityMode.Never)
    .mergeValues(true)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(false))
    .span(24)
    .height(6);
}

function freshness(): TimeseriesPanelBuilder {
  const lastSuccess = `max by (pipeline) (${etlSelector("etl_last_successful_run_timestamp_seconds")})`;
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Freshness"])
    .title("Freshness")
    .description(
      "How old is each batch pipeline's data, against what it may be? Solid: time since its last successful run " +
        "ended (time() − etl_last_successful_run_timestamp_seconds). Dashed: the age its deadline allows " +
        "(etl_deadline_timestamp_seconds − the same), for pipelines with a schedule in the catalog. Solid above " +
        "dashed is late: EtlPipelineLate.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `time() - ${lastSuccess}`, { legend: PIPELINE_LEGEND }))
    .withTarget(query("B", `max by (pipeline) (${etlSelector("etl_deadline_timestamp_seconds")}) - ${lastSuccess}`, {
      legend: "{{pipeline}} (deadline)",
    }))
    .overrideByQuery("B", [{ id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } }])
    .unit("s")
    .min(0)
    .span(12)
    .height(8);
}

function recordsAndDurationPerRun(): TimeseriesPanelBuilder {
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Records and Duration per Run"])
    .title("Records and Duration per Run")
    .description(
      "How much did each run deliver, and how long did it take? Solid: etl_last_run_records, the records of the " +
        "last finished run, a step per run (EtlEmptyRun under min_records, EtlVolumeDrop under half the 7-day " +
        "median). Dashed, right axis: etl_last_run_duration_seconds (EtlRunTooLong watches the run in progress).",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `max by (pipeline) (${etlSelector("etl_last_run_records")})`, { legend: "{{pipeline}} records" }))
    .withTarget(query("B", `max by (pipeline) (${etlSelector("etl_last_run_duration_seconds")})`, { legend: "{{pipeline}} duration" }))
    .overrideByQuery("B", [
      { id: "unit", value: "s" },
      { id: "custom.axisPlacement", value: "right" },
      { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
    ])
    .unit("short")
    .min(0)
    .span(12)
    .height(8);
}

function latePipelines(): TablePanelBuilder {
  return new TablePanelBuilder()
    .id(PANEL_IDS["Late Pipelines"])
    .title("Late Pipelines")
    .description(
      "Which scheduled pipelines are late, and by how much? time() − etl_deadline_timestamp_seconds for every " +
        "pipeline with a schedule in the catalog, latest first: positive (red) is late by that much " +
        "(EtlPipelineLate), negative is the time left before the next successful run is due.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `time() - max by (pipeline) (${etlSelector("etl_deadline_timestamp_seconds")})`, {
      instant: true,
      table: true,
      legend: PIPELINE_LEGEND,
    }))
    .transformations([{ id: "organize", options: { excludeByName: { Time: true }, renameByName: { Value: "Late by" } } }])
    .overrideByName("Late by", [{ id: "custom.cellOptions", value: { type: "color-text" } }])
    .cellOptions({ type: TableCellDisplayMode.Auto })
    .unit("s")
    .decimals(0)
    .thresholds(thresholds([base("green"), { value: 0, color: "red" }]))
    .sortBy([new TableSortByFieldStateBuilder().displayName("Late by").desc(true)])
    .span(24)
    .height(6);
}

// ---- Alerts -----------------------------------------------------------------

function alertRulesTable(): TablePanelBuilder {
  return new TablePanelBuilder()
    .id(PANEL_IDS["Alert Rules"])
    .title("Alert Rules")
    .description(
      "Which alerts are firing or pending now, and for which pipeline? One row per rule of " +
        "prometheus/rules/etl-alerts.yml, OK when quiet, so all six are always listed; a firing or pending alert " +
        "replaces its rule's OK row with one row per pipeline (endpoint alerts have none). The runbook, " +
        "docs/runbook.md, has a section per alert.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", alertStateExpr(), { instant: true, table: true, legend: "{{alertname}}" }))
    .withTransformation({
      id: "organize",
      options: {
        excludeByName: { Time: true },
        indexByName: { alertname: 0, pipeline: 1, severity: 2, Value: 3 },
        renameByName: { alertname: "Alert", pipeline: "Pipeline", severity: "Severity", Value: "State" },
      },
    })
    .cellOptions({ type: TableCellDisplayMode.Auto })
    .unit("none")
    .mappings([ALERT_STATE_MAPPING])
    .thresholds(thresholds([base("green"), { value: 1, color: "orange" }, { value: 2, color: "red" }]))
    .overrideByName("State", [{ id: "custom.cellOptions", value: { type: "color-background" } }])
    .sortBy([new TableSortByFieldStateBuilder().displayName("State").desc(true)])
    .span(10)
    .height(9);
}

function alertHistory(): StateTimelinePanelBuilder {
  return new StateTimelinePanelBuilder()
    .id(PANEL_IDS["Alert History"])
    .title("Alert History")
    .description(
      "When did each alert fire, and for how long? The same states as Alert Rules over time: OK, Pending (the " +
        "condition holds, its for: has not elapsed) and Firing, one line per rule and pipeline.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", alertStateExpr(), { legend: "{{alertname}} {{pipeline}}" }))
    .unit("none")
    .mappings([ALERT_STATE_MAPPING])
    .thresholds(thresholds([base("green"), { value: 1, color: "orange" }, { value: 2, color: "red" }]))
    .showValue(VisibilityMode.Never)
    .mergeValues(true)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(false))
    .span(14)
    .height(9);
}

// ---- Exporter ---------------------------------------------------------------

function exporterStatus(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Exporter Status"])
    .title("Exporter Status")
    .description(
      `Is the exporter scraped, and has it caught up with the logs? up{job="${EXPORTER_JOB}"}: Prometheus's last scrape ` +
        "worked (EtlMetricsEndpointDown fires after 1 minute down); etl_exporter_ready: the logs present at the " +
        "exporter's start have been read (until then the counters are still catching up).",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `up{job="${EXPORTER_JOB}"}`, { legend: "scrape", instant: true }))
    .withTarget(query("B", etlSelector("etl_exporter_ready", { pipeline: false }), { legend: "ready", instant: true }))
    .overrideByQuery("A", [{ id: "mappings", value: [valueText({ "1": ["Up", "green"], "0": ["Down", "red"] })] }])
    .overrideByQuery("B", [{ id: "mappings", value: [valueText({ "1": ["Ready", "green"], "0": ["Catching up", "orange"] })] }])
    .unit("none")
    .thresholds(thresholds([base("red"), { value: 1, color: "green" }]))
    .colorMode(BigValueColorMode.Background)
    .span(4)
    .height(6);
}

function checkpointAge(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Checkpoint Age"])
    .title("Checkpoint Age")
    .description(
      "How old is the exporter's last checkpoint? etl_exporter_checkpoint_age_seconds. The exporter saves its state and " +
        "its position in each log together every 5 s (--checkpoint-seconds); after a crash it resumes from there, " +
        "losing nothing and counting nothing twice. Orange past 15 s, red past 60 s: it cannot write the checkpoint " +
        "(disk full, permissions; its log says).",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", etlSelector("etl_exporter_checkpoint_age_seconds", { pipeline: false }), { legend: "{{instance}}", instant: true }))
    .unit("s")
    .decimals(1)
    .thresholds(thresholds([base("green"), { value: 15, color: "orange" }, { value: 60, color: "red" }]))
    .colorMode(BigValueColorMode.Value)
    .textMode(BigValueTextMode.Value)
    .span(4)
    .height(6);
}

function logLinesSkipped(): StatPanelBuilder {
  return statOptions(new StatPanelBuilder())
    .id(PANEL_IDS["Log Lines Skipped"])
    .title("Log Lines Skipped")
    .description(
      "How many log lines did the exporter reject in the selected time range? Lines that were not JSON (malformed), " +
        "broke the log contract (rejected) or were over 64 KiB (too_long): increase of etl_exporter_log_lines_total " +
        "without result=\"parsed\", over $__range. Each is skipped and logged (at most 10 a minute). Above 0 " +
        "means a writer does not follow the contract: the exporter's log names the file.",
    )
    .datasource(DATASOURCE)
    .withTarget(query(
      "A",
      `sum(increase(${etlSelector("etl_exporter_log_lines_total", { pipeline: false, extra: ['result!="parsed"'] })}[$__range]))`,
      { legend: "skipped", instant: true },
    ))
    .unit("short")
    .decimals(0)
    .thresholds(thresholds([base("green"), { value: 1, color: "orange" }]))
    .colorMode(BigValueColorMode.Value)
    .textMode(BigValueTextMode.Value)
    .span(4)
    .height(6);
}

function logLinesRead(): TimeseriesPanelBuilder {
  return timeseriesDefaults(new TimeseriesPanelBuilder())
    .id(PANEL_IDS["Log Lines Read"])
    .title("Log Lines Read")
    .description(
      "How fast does the exporter read log lines, and what becomes of them? rate(etl_exporter_log_lines_total) over " +
        "$__rate_interval by result: parsed, malformed, rejected, too_long. Parsed follows the pipelines' activity; " +
        "anything else is a writer breaking the contract.",
    )
    .datasource(DATASOURCE)
    .withTarget(query("A", `sum by (result) (rate(${etlSelector("etl_exporter_log_lines_total", { pipeline: false })}[$__rate_interval]))`, {
      legend: "{{result}}",
    }))
    .unit("cps")
    .axisLabel("lines / s")
    .min(0)
    .drawStyle(GraphDrawStyle.Line)
    .span(12)
    .height(6);
}

/**
 * Brings what the SDK (0.0.21) builds in line with the schema of the Grafana
 * the stack runs (`@grafana/schema` 13), where the builders cannot:
 * - every variable gets the interval variable's `auto`, `auto_min` and
 *   `auto_count` from the SDK's defaults; only interval variables have them;
 * - the table's `options.footer`, an SDK default, left the table's options
 *   in Grafana 13 (footers are per field now; this dashboard has none);
 * - the pie chart's `options.sort` is required in Grafana 13 and the SDK's
 *   pie chart builder has no setter for it.
 * `lib/dashboard/dashboard.test.ts` validates the result against that schema, so
 * any other drift of a new SDK or Grafana version shows up there.
 *
 * @example
 * ```ts
 * const d = conformToGrafanaSchema(new DashboardBuilder("x").build());
 * ```
 */
export function conformToGrafanaSchema(dashboard: Dashboard): Dashboard {
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === "interval") continue;
    const v = variable as unknown as Record<string, unknown>;
    delete v.auto;
    delete v.auto_min;
    delete v.auto_count;
  }
  for (const panel of dashboard.panels ?? []) {
    if (panel.type === "row") continue;
    const options = (panel as { options?: Record<string, unknown> }).options;
    if (options === undefined) continue;
    if (panel.type === "table") delete options.footer;
    if (panel.type === "piechart") options.sort ??= SortOrder.Descending;
  }
  return dashboard;
}

/**
 * The dashboard, as the object Grafana loads.
 *
 * @example
 * ```ts
 * const d = buildDashboard();
 * d.panels?.length; // 24: 18 panels and 6 rows
 * ```
 */
export function buildDashboard(): Dashboard {
  const row = (title: keyof typeof ROW_IDS) => new RowBuilder(title).id(ROW_IDS[title]).collapsed(false);
  return conformToGrafanaSchema(new DashboardBuilder("ETL Monitoring")
    .uid(DASHBOARD_UID)
    .description(
      "ETL pipelines (records, files, failures, processing time, health), the alerts of prometheus/rules/etl-alerts.yml " +
        "and the exporter's own health, from the etl-metrics exporter through Prometheus. Generated from lib/dashboard/dashboard.ts.",
    )
    .tags(["etl", "prometheus"])
    .readonly()
    .time({ from: "now-1h", to: "now" })
    .refresh("30s")
    .timezone("browser")
    .tooltip(DashboardCursorSync.Crosshair)
    .timepicker(new TimePickerBuilder().refreshIntervals(["10s", "30s", "1m", "5m", "15m", "1h"]))
    .withVariable(
      new DatasourceVariableBuilder(DATASOURCE_VARIABLE)
        .label("Data source")
        .type("prometheus")
        .current({ selected: true, text: "Prometheus", value: PROMETHEUS_DATASOURCE_UID }),
    )
    .withVariable(
      new QueryVariableBuilder(PIPELINE_VARIABLE)
        .label("Pipeline")
        .description("Pipelines to show; All by default. ETL panels break their figures down by pipeline.")
        .datasource(DATASOURCE)
        .query(`label_values(etl_health_status{job="${EXPORTER_JOB}"}, pipeline)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".+")
        .current({ selected: true, text: ["All"], value: ["$__all"] }),
    )
    .withRow(row("Overview"))
    .withPanel(healthStatus())
    .withPanel(timeSinceLastSuccess())
    .withPanel(totalFailures())
    .withPanel(alertsFiring())
    .withRow(row("Throughput"))
    .withPanel(processingRate())
    .withPanel(processingActivity())
    .withPanel(cumulativeCounts())
    .withPanel(errorTypesDistribution())
    .withRow(row("Processing time"))
    .withPanel(averageProcessingTime())
    .withPanel(processingTimePercentiles())
    .withRow(row("Pipelines"))
    .withPanel(pipelinesTable())
    .withPanel(healthHistory())
    .withRow(row("Batch runs"))
    .withPanel(runStates())
    .withPanel(freshness())
    .withPanel(recordsAndDurationPerRun())
    .withPanel(latePipelines())
    .withRow(row("Alerts"))
    .withPanel(alertRulesTable())
    .withPanel(alertHistory())
    .withRow(row("Exporter"))
    .withPanel(exporterStatus())
    .withPanel(checkpointAge())
    .withPanel(logLinesSkipped())
    .withPanel(logLinesRead())
    .build());
}

/**
 * The committed file's text: two-space JSON and a final newline, so a
 * rebuild from the same source gives the same bytes.
 *
 * @example
 * ```ts
 * JSON.parse(dashboardJson()).uid; // "etl-monitoring"
 * ```
 */
export function dashboardJson(dashboard: Dashboard = buildDashboard()): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
