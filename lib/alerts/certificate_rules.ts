/**
 * The certificate alert, in a rule file of its own (`etl-certificates.yml`)
 * beside the pipeline alerts: `EtlCertificateExpiringSoon` (warning) when
 * the certificate a server of ours serves expires within 14 days. `npm run
 * secrets` renews at 30 days, so the alert means renewal did not happen or
 * the server was not restarted after it. Its promtool unit tests are
 * generated here too, from the same numbers.
 *
 * @example
 * ```ts
 * import { certificateRulesYaml, certificateRuleTestsYaml } from "./certificate_rules.ts";
 * certificateRulesYaml().includes("EtlCertificateExpiringSoon"); // true
 * ```
 * @module
 */
import { CERTIFICATE_EXPIRY_METRIC } from "../metrics/certificate_family.ts";
import { PRODUCTION_ALERT_PARAMS, toYaml } from "./rules.ts";

export { CERTIFICATE_EXPIRY_METRIC };
/** The alert's name. */
export const CERTIFICATE_ALERT = "EtlCertificateExpiringSoon";
/** Where the rules and their tests are published, relative to the repository root. */
export const CERTIFICATE_RULES_PATH = "prometheus/rules/etl-certificates.yml";
export const CERTIFICATE_RULES_TEST_PATH = "prometheus/rules/etl-certificates.test.yml";

/** Warn this many days before expiry. */
export const WARN_DAYS = 14;
/** How long the condition must hold (a restart blip never warns). */
export const FOR = "10m";

const DAY = 86_400;

/** The rule group. */
export function certificateRules(runbookUrl = PRODUCTION_ALERT_PARAMS.runbookUrl) {
  return {
    groups: [
      {
        name: "etl-certificates",
        rules: [
          {
            alert: CERTIFICATE_ALERT,
            expr: `${CERTIFICATE_EXPIRY_METRIC} - time() < ${WARN_DAYS * DAY}`,
            for: FOR,
            labels: { severity: "warning" },
            annotations: {
              summary: "TLS certificate of {{ $labels.job }} expires within 14 days",
              description: "The certificate served by {{ $labels.instance }} (job {{ $labels.job }}) expires in {{ $value | humanizeDuration }}. " +
                "Run npm run secrets (it renews at 30 days) and restart the service.",
              runbook_url: `${runbookUrl}#${CERTIFICATE_ALERT.toLowerCase()}`,
            },
          },
        ],
      },
    ],
  };
}

/** The rule file's text. */
export function certificateRulesYaml(): string {
  return toYaml(certificateRules(), "Generated from lib/alerts/certificate_rules.ts by commands/build/rules.ts; do not edit.\nRunbook: docs/runbook.md. Unit tests: etl-certificates.test.yml (promtool test rules).");
}

/**
 * promtool unit tests: a certificate 15 days from expiry at time 0, seen
 * every minute. At 23 h (14 d 1 h left) and 24 h (exactly 14 d) nothing;
 * true from 24 h 1 m, so pending at 24 h 10 m and firing at 24 h 11 m
 * (`for` 10 m); a renewed certificate (a year more) clears it.
 */
export function certificateRuleTests() {
  const labels = { job: "etl-metrics", instance: "etl-metrics:8083" };
  const series = `${CERTIFICATE_EXPIRY_METRIC}{job="etl-metrics", instance="etl-metrics:8083"}`;
  const expiresAt = 15 * DAY;
  const renewed = expiresAt + 365 * DAY;
  // One sample a minute: 30 h at the old expiry, then the renewed certificate.
  const values = `${expiresAt}x1800 ${renewed}x60`;
  const alertAt = (minutes: number, left: string) => ({
    eval_time: `${minutes}m`,
    alertname: CERTIFICATE_ALERT,
    exp_alerts: [
      {
        exp_labels: { severity: "warning", ...labels },
        exp_annotations: {
          summary: "TLS certificate of etl-metrics expires within 14 days",
          description: `The certificate served by etl-metrics:8083 (job etl-metrics) expires in ${left}. Run npm run secrets (it renews at 30 days) and restart the service.`,
          runbook_url: `${PRODUCTION_ALERT_PARAMS.runbookUrl}#${CERTIFICATE_ALERT.toLowerCase()}`,
        },
      },
    ],
  });
  const none = (minutes: number) => ({ eval_time: `${minutes}m`, alertname: CERTIFICATE_ALERT, exp_alerts: [] });
  return {
    rule_files: ["etl-certificates.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: [{ series, values }],
        alert_rule_test: [none(23 * 60), none(24 * 60), none(24 * 60 + 10), alertAt(24 * 60 + 11, "13d 23h 49m 0s"), alertAt(29 * 60, "13d 19h 0m 0s"), none(30 * 60 + 30)],
      },
    ],
  };
}

/** The unit tests' text. */
export function certificateRuleTestsYaml(): string {
  return toYaml(certificateRuleTests(), "Generated from lib/alerts/certificate_rules.ts by commands/build/rules.ts; do not edit.\nRun: promtool test rules prometheus/rules/etl-certificates.test.yml");
}
