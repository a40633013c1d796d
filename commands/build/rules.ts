// Writes the alert rules, their promtool unit tests and the Alertmanager
// configuration, all generated from lib/alerts/ (the single source), and
// prints what it wrote. Tests fail when the committed files are stale.
// `npm run build:rules -- --help` lists the flags.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import * as z from "zod";
import { ALERTMANAGER_PATH, COMPOSE_ALERTMANAGER_OPTIONS, renderAlertmanagerConfig } from "../../lib/alerts/alertmanager_config.ts";
import { RULES_TEST_PATH, ruleTestsYaml } from "../../tools/alerts/rule_tests.ts";
import { CERTIFICATE_RULES_PATH, CERTIFICATE_RULES_TEST_PATH, certificateRulesYaml, certificateRuleTestsYaml } from "../../lib/alerts/certificate_rules.ts";
import { type AlertParams, alertParamsForSpeed, alertRulesYaml, PRODUCTION_ALERT_PARAMS, RULES_PATH } from "../../lib/alerts/rules.ts";
import { boundedNumber, type SettingsSpec } from "../../lib/config/settings.ts";
import { settingsOrExit } from "../../workers/start.ts";

const USAGE = `Usage: npm run build:rules [-- flags]
  With no flags: writes ${RULES_PATH}, ${RULES_TEST_PATH} and ${ALERTMANAGER_PATH} (the committed files).
  --speed N --scrape-interval S --out DIR: a time-compressed copy of the rules and their tests, for the live test; never deploy it.
  --runbook-url URL --out DIR: production rules (and tests) whose runbook_url points at URL.
Settings (flag, default):`;

const RULES_SETTINGS = {
  speed: {
    flag: "speed",
    help: "Time compression the rules are rendered for (thresholds scaled, windows shortened); needs --out and --scrape-interval.",
    defaultText: "none: production rules",
    schema: boundedNumber(0, 10_000, { aboveMin: true }).optional(),
  },
  scrapeInterval: {
    flag: "scrape-interval",
    help: "Seconds between scrapes of the time-compressed stack (with --speed).",
    defaultText: "none",
    schema: boundedNumber(0, 3600, { aboveMin: true }).optional(),
  },
  evaluationInterval: {
    flag: "evaluation-interval",
    help: "Seconds between rule evaluations of the time-compressed stack (with --speed).",
    defaultText: "the scrape interval",
    schema: boundedNumber(0, 3600, { aboveMin: true }).optional(),
  },
  out: {
    flag: "out",
    help: "Folder to write etl-alerts.yml and etl-alerts.test.yml to, instead of the committed files.",
    defaultText: "the committed files",
    schema: z.string().min(1, "must not be empty").optional(),
  },
  runbookUrl: {
    flag: "runbook-url",
    help: "Base URL of the runbook in each rule's runbook_url (with --out).",
    defaultText: PRODUCTION_ALERT_PARAMS.runbookUrl,
    schema: z.string().min(1, "must not be empty").optional(),
  },
} satisfies SettingsSpec;

const settings = settingsOrExit(RULES_SETTINGS, USAGE).values;
const speed = settings.speed;
const scrape = settings.scrapeInterval;
const evaluation = settings.evaluationInterval;

const write = (path: string, text: string) => {
  writeFileSync(path, text);
  console.log(`wrote ${path} (${text.length} bytes)`);
};

if (speed === undefined) {
  if (scrape !== undefined || evaluation !== undefined) {
    console.error("--scrape-interval and --evaluation-interval go with --speed");
    process.exit(2);
  }
  const params: AlertParams = { ...PRODUCTION_ALERT_PARAMS, runbookUrl: settings.runbookUrl ?? PRODUCTION_ALERT_PARAMS.runbookUrl };
  if (settings.out === undefined) {
    if (settings.runbookUrl !== undefined) {
      console.error("--runbook-url needs --out DIR: the committed rules keep the repository-relative runbook URL");
      process.exit(2);
    }
    write(RULES_PATH, alertRulesYaml(params));
    write(RULES_TEST_PATH, await ruleTestsYaml(params));
    write(ALERTMANAGER_PATH, renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS));
    write(CERTIFICATE_RULES_PATH, certificateRulesYaml());
    write(CERTIFICATE_RULES_TEST_PATH, certificateRuleTestsYaml());
  } else {
    mkdirSync(settings.out, { recursive: true });
    write(join(settings.out, "etl-alerts.yml"), alertRulesYaml(params));
    write(join(settings.out, "etl-alerts.test.yml"), await ruleTestsYaml(params));
  }
} else {
  if (settings.out === undefined || scrape === undefined) {
    console.error("--speed needs --out DIR and --scrape-interval SECONDS");
    process.exit(2);
  }
  const params: AlertParams = {
    ...alertParamsForSpeed(speed, { scrapeIntervalSeconds: scrape, ...(evaluation === undefined ? {} : { evaluationIntervalSeconds: evaluation }) }),
    ...(settings.runbookUrl === undefined ? {} : { runbookUrl: settings.runbookUrl }),
  };
  mkdirSync(settings.out, { recursive: true });
  write(join(settings.out, "etl-alerts.yml"), alertRulesYaml(params));
  write(join(settings.out, "etl-alerts.test.yml"), await ruleTestsYaml(params));
}
