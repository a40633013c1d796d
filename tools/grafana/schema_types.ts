/**
 * The `@grafana/schema` types (Grafana 13's dashboard model and the options
 * of the panel types the dashboard uses) that `schema.ts` generates JSON
 * Schemas from, under names unique within one program: every panel plugin
 * calls its types `Options` and `FieldConfig`. Types only; nothing runs.
 *
 * @example
 * ```ts
 * import type { DashboardModel } from "./schema_types.ts";
 * const d: DashboardModel = { schemaVersion: 42 };
 * ```
 * @module
 */
import type { Dashboard as RawDashboard } from "@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen";
import type { Options as PieChartPanelOptions, FieldConfig as PieChartPanelFieldConfig } from "@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen";
import type { Options as StatPanelOptions } from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type { Options as StateTimelinePanelOptions, FieldConfig as StateTimelinePanelFieldConfig } from "@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen";
import type { Options as TablePanelOptions, FieldConfig as TablePanelFieldConfig } from "@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import type { Options as TimeSeriesPanelOptions, FieldConfig as TimeSeriesPanelFieldConfig } from "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";

/**
 * The dashboard JSON model (the raw, CUE-generated type; the package's own `Dashboard` veneer adds generics).
 *
 * @example
 * ```ts
 * const value: DashboardModel = JSON.parse(text);
 * ```
 */
export type DashboardModel = RawDashboard;

/**
 * The time series panel's `options`.
 *
 * @example
 * ```ts
 * const value: TimeSeriesOptions = JSON.parse(text);
 * ```
 */
export type TimeSeriesOptions = TimeSeriesPanelOptions;

/**
 * The time series panel's `fieldConfig.defaults.custom`.
 *
 * @example
 * ```ts
 * const value: TimeSeriesFieldConfig = JSON.parse(text);
 * ```
 */
export type TimeSeriesFieldConfig = TimeSeriesPanelFieldConfig;

/**
 * The stat panel's `options` (it has no custom field config).
 *
 * @example
 * ```ts
 * const value: StatOptions = JSON.parse(text);
 * ```
 */
export type StatOptions = StatPanelOptions;

/**
 * The table panel's `options`.
 *
 * @example
 * ```ts
 * const value: TableOptions = JSON.parse(text);
 * ```
 */
export type TableOptions = TablePanelOptions;

/**
 * The table panel's `fieldConfig.defaults.custom`.
 *
 * @example
 * ```ts
 * const value: TableFieldConfig = JSON.parse(text);
 * ```
 */
export type TableFieldConfig = TablePanelFieldConfig;

/**
 * The pie chart panel's `options`.
 *
 * @example
 * ```ts
 * const value: PieChartOptions = JSON.parse(text);
 * ```
 */
export type PieChartOptions = PieChartPanelOptions;

/**
 * The pie chart panel's `fieldConfig.defaults.custom`.
 *
 * @example
 * ```ts
 * const value: PieChartFieldConfig = JSON.parse(text);
 * ```
 */
export type PieChartFieldConfig = PieChartPanelFieldConfig;

/**
 * The state timeline panel's `options`.
 *
 * @example
 * ```ts
 * const value: StateTimelineOptions = JSON.parse(text);
 * ```
 */
export type StateTimelineOptions = StateTimelinePanelOptions;

/**
 * The state timeline panel's `fieldConfig.defaults.custom`.
 *
 * @example
 * ```ts
 * const value: StateTimelineFieldConfig = JSON.parse(text);
 * ```
 */
export type StateTimelineFieldConfig = StateTimelinePanelFieldConfig;
