/**
 * The monitoring mixin of `mixin/` (the Prometheus ecosystem's bundle of
 * alerts, recording rules, dashboards and their `_config`), as data, from
 * the same sources as the rest: the alerts are {@linkcode alertRules}, the
 * dashboard {@linkcode dashboardJson}. Written by `commands/build/mixin.ts`;
 * a test fails when `mixin/` is stale, runs promtool on it and lints it
 * against the mixin conventions (CamelCase names with a common prefix,
 * `severity` critical|warning|info, `summary`, `description`, `runbook_url`,
 * `dashboard_url`).
 *
 * @example
 * ```ts
 * import { mixinFiles } from "./mixin.ts";
 * Object.keys(mixinFiles()); // ["prometheus_alerts.yaml", …]
 * ```
 * @module
 */
import { type AlertParams, alertRules, PRODUCTION_ALERT_PARAMS, type RecordingRule, RULE_GROUP_NAME, toYaml, volumeMedianRule } from "../alerts/rules.ts";
import { DASHBOARD_UID, dashboardJson } from "../dashboard/dashboard.ts";
import { formatDuration } from "../alerts/duration.ts";

/** Where the mixin is written, relative to the repository root. */
export const MIXIN_DIR = "mixin";
/** Every alert's name starts with it. */
export const ALERT_PREFIX = "Etl";
/** The severities the mixin conventions allow. */
export const MIXIN_SEVERITIES = ["critical", "warning", "info"] as const;

/** What a mixin user sets: selectors, thresholds and where the runbook and Grafana are. */
export interface MixinConfig {
  /** Selects the exporter's series (every pipeline alert and recording rule). */
  etlExporterSelector: string;
  /** Selects the simulator's own endpoint. */
  etlSimulatorSelector: string;
  /** `%s` is replaced by the alert's name in lower case. */
  runbookURLPattern: string;
  /** The dashboard's address; `dashboard_url` of every alert. */
  dashboardURL: string;
  /** The rule groups' evaluation interval. */
  evaluationInterval: string;
  /** Thresholds and `for` durations, in seconds or the alert's own unit. */
  thresholds: Omit<AlertParams, "speed" | "scrapeIntervalSeconds" | "evaluationIntervalSeconds" | "exporterJob" | "simulatorJob" | "runbookUrl">;
}

/** Options of {@linkcode mixinConfig}. */
export interface MixinOptions {
  params?: AlertParams;
  /** Base address of the runbook file (default: the repository-relative `docs/runbook.md`). */
  runbookUrl?: string;
  /** Grafana's base address, e.g. `https://grafana.example.internal`. */
  grafanaUrl?: string;
}

/** The Grafana address used when none is given (the native and Compose stacks' Grafana port). */
export const DEFAULT_GRAFANA_URL = "http://127.0.0.1:3000";

/**
 * The config the mixin is built with.
 *
 * @example
 * ```ts
 * mixinConfig().etlExporterSelector; // 'job="etl-metrics"'
 * ```
 */
export function mixinConfig(options: MixinOptions = {}): MixinConfig {
  const p = options.params ?? PRODUCTION_ALERT_PARAMS;
  const { speed: _s, scrapeIntervalSeconds: _i, evaluationIntervalSeconds, exporterJob, simulatorJob, runbookUrl, ...thresholds } = p;
  return {
    etlExporterSelector: `job=${JSON.stringify(exporterJob)}`,
    etlSimulatorSelector: `job=${JSON.stringify(simulatorJob)}`,
    runbookURLPattern: `${options.runbookUrl ?? runbookUrl}#%s`,
    dashboardURL: `${(options.grafanaUrl ?? DEFAULT_GRAFANA_URL).replace(/\/+$/, "")}/d/${DASHBOARD_UID}`,
    evaluationInterval: formatDuration(evaluationIntervalSeconds),
    thresholds,
  };
}

/**
 * Recording rules named `level:metric:operations`: per-pipeline aggregates
 * without `instance`, so an HA pair's two copies (told apart only by the
 * `replica` external label) collapse to one series per pipeline when a
 * query layer deduplicates on `replica` or sums `max by (job, pipeline)`.
 *
 * @example
 * ```ts
 * recordingRules(mixinConfig())[0]!.record; // "job_pipeline:etl_records:rate5m"
 * ```
 */
export function recordingRules(config: MixinConfig): RecordingRule[] {
  const s = config.etlExporterSelector;
  return [
    { record: "job_pipeline:etl_records:rate5m", expr: `sum by (job, pipeline) (rate(etl_records_total{${s}}[5m]))` },
    { record: "job_pipeline:etl_files:increase1h", expr: `sum by (job, pipeline) (increase(etl_files_total{${s}}[1h]))` },
    { record: "job_pipeline:etl_failures:increase1h", expr: `sum by (job, pipeline) (increase(etl_failures_total{${s}}[1h]))` },
    {
      record: "job_pipeline:etl_file_processing_duration_seconds:p95_15m",
      expr: `histogram_quantile(0.95, sum by (job, pipeline, le) (rate(etl_file_processing_duration_seconds_bucket{${s}}[15m])))`,
    },
    // etl_health_status is 0 or 1: the sum of its complement counts the unhealthy pipelines, 0 included.
    { record: "job:etl_pipelines_unhealthy:count", expr: `sum by (job) (1 - etl_health_status{${s}})` },
    // EtlVolumeDrop compares with this one: the mixin's alerts need it as the rule file's do.
    volumeMedianRule(s, config.thresholds.volumeDrop.windowSeconds),
  ];
}

/** Mixin style: a summary is a sentence ending with a period. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/**
 * The alert groups: the rule file's groups, with every alert's
 * `runbook_url` from the pattern, a `dashboard_url`, and summaries as sentences.
 * Expressions, `for` and labels are the rule file's, unchanged.
 */
export function mixinAlerts(config: MixinConfig, params: AlertParams = PRODUCTION_ALERT_PARAMS) {
  return {
    // The alerts' group only: the rule file's recording group is in mixinRules.
    groups: [alertRules(params).groups[0]].map((g) => ({
      ...g,
      interval: config.evaluationInterval,
      rules: g.rules.map((r) => ({
        ...r,
        annotations: {
          summary: sentence(r.annotations.summary),
          description: r.annotations.description,
          runbook_url: config.runbookURLPattern.replace("%s", r.alert.toLowerCase()),
          dashboard_url: config.dashboardURL,
        },
      })),
    })),
  };
}

/** The recording rules as a rule file. */
export function mixinRules(config: MixinConfig) {
  return { groups: [{ name: `${RULE_GROUP_NAME}.rules`, interval: config.evaluationInterval, rules: recordingRules(config) }] };
}

const HEADER = "Generated from lib/alerts/rules.ts and lib/mixin/mixin.ts by commands/build/mixin.ts (npm run build:mixin); do not edit.";

/** Every file of `mixin/` by path relative to it. */
export function mixinFiles(options: MixinOptions = {}): Record<string, string> {
  const config = mixinConfig(options);
  return {
    "prometheus_alerts.yaml": toYaml(mixinAlerts(config, options.params), HEADER),
    "prometheus_rules.yaml": toYaml(mixinRules(config), HEADER),
    [`dashboards_out/${DASHBOARD_UID}.json`]: dashboardJson(),
    "config.json": `${JSON.stringify(config, null, 2)}\n`,
  };
}
