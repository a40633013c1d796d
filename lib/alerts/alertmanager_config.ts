/**
 * The Alertmanager configuration, rendered from code because Alertmanager
 * 0.25 (Debian's) has no `url_file` for webhooks (it came in 0.26; amtool
 * 0.25 rejects the field) and the same configuration must serve Compose
 * (receiver at `http://etl-alert-receiver:9095/webhook`) and a native run
 * (receiver on 127.0.0.1 at some port). `prometheus/alertmanager.yml` is
 * the Compose rendering, written by `commands/build/rules.ts`; a test fails
 * when it is stale. A native stack calls {@linkcode renderAlertmanagerConfig}
 * with its own URL and password file.
 *
 * Routing: everything to the `etl-webhook` receiver, grouped by alert and
 * pipeline; critical alerts wait 10 s and repeat hourly, warnings wait 30 s
 * and repeat every 4 h. Inhibition (see {@linkcode inhibitRules}): a scrape
 * target down silences the pipeline alerts that follow from it, and a
 * failed health check silences the warnings it explains for its pipeline.
 * E-mail and Slack join the webhook in that receiver when their settings
 * are given (`channels`); otherwise they are written as comments.
 *
 * @example
 * ```ts
 * import { renderAlertmanagerConfig } from "./alertmanager_config.ts";
 * renderAlertmanagerConfig({ receiverUrl: "http://127.0.0.1:9095/webhook", receiverPasswordFile: "/abs/secrets/receiver_password" });
 * ```
 * @module
 */
import { parseDuration } from "./duration.ts";
import { EXAMPLE_CHANNELS, type NotificationChannels, notificationIntegrations, pagerdutyExample } from "./notification_channels.ts";
import { ALERT_NAMES, type AlertName, PRODUCTION_ALERT_PARAMS, toYaml } from "./rules.ts";

/**
 * Where the Compose rendering is published, relative to the repository root.
 *
 * @example
 * ```ts
 * readFileSync(ALERTMANAGER_PATH, "utf8") === renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS); // true unless stale
 * ```
 */
export const ALERTMANAGER_PATH = "prometheus/alertmanager.yml";

/**
 * Alertmanager durations of the two routes (`10s`, `1h`…). The live test
 * shortens them; production uses {@linkcode PRODUCTION_TIMING}.
 */
export interface AlertmanagerTiming {
  criticalGroupWait: string;
  criticalGroupInterval: string;
  criticalRepeatInterval: string;
  warningGroupWait: string;
  warningGroupInterval: string;
  warningRepeatInterval: string;
}

/** Options of {@linkcode alertmanagerConfig}. */
export interface AlertmanagerOptions {
  /** The webhook receiver's URL. */
  receiverUrl: string;
  /**
   * File holding the receiver's basic-auth password. Alertmanager reads it
   * at every notification (a trailing newline is ignored); a relative path
   * is resolved against the directory of the configuration file.
   */
  receiverPasswordFile: string;
  /** Basic-auth user; `alertmanager` by default. */
  receiverUser?: string;
  /** CA file the receiver's certificate must chain to (an `https:` receiver URL). */
  receiverCaFile?: string | undefined;
  /** Production timings where not given (the live test shortens them). */
  timing?: Partial<AlertmanagerTiming> | undefined;
  /**
   * The example e-mail, Slack and PagerDuty integrations: `"commented"`
   * (default, as shipped, unless `channels` is given) or `"enabled"` (so a
   * test can check them with amtool).
   */
  exampleReceivers?: "commented" | "enabled";
  /** E-mail and Slack, from the settings of lib/alerts/notification_channels.ts; they join the webhook. */
  channels?: NotificationChannels | undefined;
}

/**
 * The options of the committed file: the Compose service, and the
 * password in `secrets/` next to the configuration file (the layout of
 * `prometheus/prometheus.yml`: mount the secrets folder there).
 *
 * @example
 * ```ts
 * renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS); // the committed text
 * ```
 */
export const COMPOSE_ALERTMANAGER_OPTIONS: Readonly<AlertmanagerOptions> = Object.freeze({
  receiverUrl: "http://etl-alert-receiver:9095/webhook",
  receiverPasswordFile: "secrets/receiver_password",
});

/**
 * The timings the issue asks for; group_interval is Alertmanager's default.
 *
 * @example
 * ```ts
 * PRODUCTION_TIMING.criticalRepeatInterval; // "1h"
 * ```
 */
export const PRODUCTION_TIMING: Readonly<AlertmanagerTiming> = Object.freeze({
  criticalGroupWait: "10s",
  criticalGroupInterval: "5m",
  criticalRepeatInterval: "1h",
  warningGroupWait: "30s",
  warningGroupInterval: "5m",
  warningRepeatInterval: "4h",
});

/**
 * The default receiver's name.
 *
 * @example
 * ```ts
 * alertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS).route.receiver === WEBHOOK_RECEIVER; // true
 * ```
 */
export const WEBHOOK_RECEIVER = "etl-webhook";

/** An Alertmanager inhibit rule. */
export interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal?: string[];
}

/** Every alert about a pipeline: all but the endpoint alert. */
const PIPELINE_ALERTS: readonly AlertName[] = ALERT_NAMES.filter((n) => n !== "EtlMetricsEndpointDown");

/**
 * The inhibit rules.
 *
 * 1. `EtlMetricsEndpointDown` (any job) inhibits every pipeline alert, of
 *    every pipeline: there is one exporter and one simulator process for
 *    all pipelines, so either being down explains them all. The simulator
 *    crashing is the common case: its pipelines then go stale, and health,
 *    no-success and throughput alerts follow minutes later. (No `equal`:
 *    pipeline alerts carry `job="etl-metrics"` and `pipeline`, the
 *    simulator's endpoint alert `job="etl-simulator"` and no pipeline, so
 *    no label links them. With several ETL processes, give their series
 *    and targets a shared label and add it as `equal`.)
 * 2. `EtlHealthCheckFailed` inhibits, for the same job and pipeline, the
 *    warnings that follow from a stalled pipeline: no success, low
 *    throughput. Not `EtlHighFailureRate`: a burst of failures is often why
 *    the pipeline is unhealthy, and the on-call wants that reason in front
 *    of them. Not `EtlSlowProcessing`: slow successful files are a
 *    different problem.
 * 3. `EtlPipelineLate` inhibits, for the same job and pipeline,
 *    `EtlVolumeDrop` and `EtlEmptyRun`: while no run has arrived they speak
 *    of an old run, and the run that is due is what decides both (a late
 *    run that then comes in small notifies once lateness resolves).
 * 4. `EtlPipelineLate` critical inhibits its own warning, for the same job
 *    and pipeline: one page for one late pipeline.
 *
 * Alertmanager never lets an alert inhibit itself; the endpoint alert is
 * not a target, so two targets down both page.
 *
 * @example
 * ```ts
 * inhibitRules()[0]!.source_matchers; // ['alertname="EtlMetricsEndpointDown"']
 * ```
 */
export function inhibitRules(): InhibitRule[] {
  const any = (names: readonly string[]) => `alertname=~"${names.join("|")}"`;
  return [
    {
      source_matchers: ['alertname="EtlMetricsEndpointDown"'],
      target_matchers: [any(PIPELINE_ALERTS)],
    },
    {
      source_matchers: ['alertname="EtlHealthCheckFailed"'],
      target_matchers: [any(["EtlNoSuccessIn10Minutes", "EtlLowThroughput"])],
      equal: ["job", "pipeline"],
    },
    {
      source_matchers: ['alertname="EtlPipelineLate"'],
      target_matchers: [any(["EtlVolumeDrop", "EtlEmptyRun"])],
      equal: ["job", "pipeline"],
    },
    {
      source_matchers: ['alertname="EtlPipelineLate"', 'severity="critical"'],
      target_matchers: ['alertname="EtlPipelineLate"', 'severity="warning"'],
      equal: ["job", "pipeline"],
    },
  ];
}

/**
 * The ready-to-fill integrations of the committed file: e-mail, Slack and
 * PagerDuty (no secret in them: `*_file` fields), added to the default
 * receiver. Their paths are absolute because Alertmanager 0.25 resolves
 * relative paths against the configuration's folder only inside
 * `http_config`; it opens `api_url_file`, `auth_password_file` and
 * `routing_key_file` relative to its working folder.
 *
 * @example
 * ```ts
 * Object.keys(exampleIntegrations()); // ["email_configs", "slack_configs", "pagerduty_configs"]
 * ```
 */
export function exampleIntegrations(): Record<string, unknown> {
  return { ...notificationIntegrations(EXAMPLE_CHANNELS), ...pagerdutyExample() };
}

/**
 * The configuration as data.
 *
 * @example
 * ```ts
 * alertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS).route.receiver; // "etl-webhook"
 * ```
 */
export function alertmanagerConfig(options: AlertmanagerOptions) {
  const t: AlertmanagerTiming = { ...PRODUCTION_TIMING };
  for (const [k, v] of Object.entries(options.timing ?? {})) {
    if (v === undefined) continue;
    parseDuration(v); // refuses a malformed duration early
    t[k as keyof AlertmanagerTiming] = v;
  }
  const timing = (severity: "critical" | "warning") => ({
    group_wait: t[`${severity}GroupWait`],
    group_interval: t[`${severity}GroupInterval`],
    repeat_interval: t[`${severity}RepeatInterval`],
  });
  const receivers: Array<Record<string, unknown>> = [
    {
      name: WEBHOOK_RECEIVER,
      webhook_configs: [
        {
          url: options.receiverUrl,
          send_resolved: true,
          http_config: {
            basic_auth: { username: options.receiverUser ?? "alertmanager", password_file: options.receiverPasswordFile },
            ...(options.receiverCaFile ? { tls_config: { ca_file: options.receiverCaFile } } : {}),
          },
        },
      ],
      ...(options.exampleReceivers === "enabled" ? exampleIntegrations() : notificationIntegrations(options.channels ?? {})),
    },
  ];
  return {
    route: {
      receiver: WEBHOOK_RECEIVER,
      group_by: ["alertname", "pipeline"],
      ...timing("warning"),
      routes: [
        { receiver: WEBHOOK_RECEIVER, matchers: ['severity="critical"'], ...timing("critical") },
        { receiver: WEBHOOK_RECEIVER, matchers: ['severity="warning"'], ...timing("warning") },
      ],
    },
    inhibit_rules: inhibitRules(),
    receivers,
  };
}

/**
 * The configuration's text. Only URLs and file names go in: no secret.
 *
 * @example
 * ```ts
 * renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS).includes("password_file: secrets/receiver_password"); // true
 * ```
 */
export function renderAlertmanagerConfig(options: AlertmanagerOptions): string {
  const url = new URL(options.receiverUrl); // refuses a malformed URL early
  if (url.username !== "" || url.password !== "") throw new Error("put no credentials in the receiver URL: use the password file");
  const header = [
    "Alertmanager configuration of the ETL stack. Generated from lib/alerts/alertmanager_config.ts",
    "by commands/build/rules.ts; do not edit. This is the Compose rendering; a native",
    "stack renders its own with renderAlertmanagerConfig({ receiverUrl, receiverPasswordFile }).",
    "Check: amtool check-config prometheus/alertmanager.yml. Runbook: docs/runbook.md.",
    `Pipeline alerts read job="${PRODUCTION_ALERT_PARAMS.exporterJob}"; see the inhibition notes in the runbook.`,
  ].join("\n");
  let text = toYaml(alertmanagerConfig(options), header);
  if (options.exampleReceivers !== "enabled" && options.channels === undefined) {
    const example = toYaml(exampleIntegrations())
      .trimEnd()
      .split("\n")
      .map((line) => `    # ${line}`.trimEnd());
    text += [
      "    # E-mail and Slack: set ETL_ALERT_EMAIL_TO… / ETL_ALERT_SLACK_WEBHOOK_URL_FILE",
      "    # (README, \"Alerts by e-mail and Slack\") and a native stack renders these; or",
      "    # uncomment, fill the addresses and put the secrets in the files named (never",
      "    # here). PagerDuty was never tried. See docs/runbook.md#receivers.",
      ...example,
      "",
    ].join("\n");
  }
  return text;
}
