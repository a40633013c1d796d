// Writes the alert rules, their promtool unit tests and the Alertmanager
// configuration, all generated from lib/alerts/ (the single source), and
// prints what it wrote. Tests fail when the committed files are stale.
//
//   build_rules.ts                      the production files (committed)
//   build_rules.ts --speed 60 --scrape-interval 1 --out DIR
//                                       a time-compressed copy of the rules and
//                                       their tests for the live test; never deploy it
//   build_rules.ts --runbook-url URL --out DIR
//                                       production rules (and tests) whose runbook_url
//                                       points at URL, e.g. the runbook on your forge
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ALERTMANAGER_PATH, COMPOSE_ALERTMANAGER_OPTIONS, renderAlertmanagerConfig } from "../../lib/alerts/alertmanager_config.ts";
import { RULES_TEST_PATH, ruleTestsYaml } from "../../tools/alerts/rule_tests.ts";
import { CERTIFICATE_RULES_PATH, CERTIFICATE_RULES_TEST_PATH, certificateRulesYaml, certificateRuleTestsYaml } from "../../lib/alerts/certificate_rules.ts";
import { type AlertParams, alertParamsForSpeed, alertRulesYaml, PRODUCTION_ALERT_PARAMS, RULES_PATH } from "../../lib/alerts/rules.ts";

const { values } = parseArgs({
  options: {
    speed: { type: "string" },
    "scrape-interval": { type: "string" },
    "evaluation-interval": { type: "string" },
    out: { type: "string" },
    "runbook-url": { type: "string" },
  },
  strict: true,
});

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) {
    console.error(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

const speed = positive("speed", values.speed);
const scrape = positive("scrape-interval", values["scrape-interval"]);
const evaluation = positive("evaluation-interval", values["evaluation-interval"]);

const write = (path: string, text: string) => {
  writeFileSync(path, text);
  console.log(`wrote ${path} (${text.length} bytes)`);
};

if (speed === undefined) {
  if (scrape !== undefined || evaluation !== undefined) {
    console.error("--scrape-interval and --evaluation-interval go with --speed");
    process.exit(2);
  }
  const params: AlertParams = { ...PRODUCTION_ALERT_PARAMS, runbookUrl: values["runbook-url"] ?? PRODUCTION_ALERT_PARAMS.runbookUrl };
  if (values.out === undefined) {
    if (values["runbook-url"] !== undefined) {
      console.error("--runbook-url needs --out DIR: the committed rules keep the repository-relative runbook URL");
      process.exit(2);
    }
    write(RULES_PATH, alertRulesYaml(params));
    write(RULES_TEST_PATH, await ruleTestsYaml(params));
    write(ALERTMANAGER_PATH, renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS));
    write(CERTIFICATE_RULES_PATH, certificateRulesYaml());
    write(CERTIFICATE_RULES_TEST_PATH, certificateRuleTestsYaml());
  } else {
    mkdirSync(values.out, { recursive: true });
    write(join(values.out, "etl-alerts.yml"), alertRulesYaml(params));
    write(join(values.out, "etl-alerts.test.yml"), await ruleTestsYaml(params));
  }
} else {
  if (values.out === undefined || scrape === undefined) {
    console.error("--speed needs --out DIR and --scrape-interval SECONDS");
    process.exit(2);
  }
  const params: AlertParams = {
    ...alertParamsForSpeed(speed, { scrapeIntervalSeconds: scrape, ...(evaluation === undefined ? {} : { evaluationIntervalSeconds: evaluation }) }),
    ...(values["runbook-url"] === undefined ? {} : { runbookUrl: values["runbook-url"] }),
  };
  mkdirSync(values.out, { recursive: true });
  write(join(values.out, "etl-alerts.yml"), alertRulesYaml(params));
  write(join(values.out, "etl-alerts.test.yml"), await ruleTestsYaml(params));
}
