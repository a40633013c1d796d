import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import {
  CERTIFICATE_ALERT,
  CERTIFICATE_EXPIRY_METRIC,
  CERTIFICATE_RULES_PATH,
  CERTIFICATE_RULES_TEST_PATH,
  certificateRules,
  certificateRulesYaml,
  certificateRuleTestsYaml,
} from "./certificate_rules.ts";

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "etl-cert-rules-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the certificate alert", () => {
  it(`is current in ${CERTIFICATE_RULES_PATH} and its tests (run the build:rules script after changing it)`, () => {
    expect(readFileSync(CERTIFICATE_RULES_PATH, "utf8")).toBe(certificateRulesYaml());
    expect(readFileSync(CERTIFICATE_RULES_TEST_PATH, "utf8")).toBe(certificateRuleTestsYaml());
  });

  it("warns at 14 days, reads the exporter's gauge, and Prometheus loads the file", () => {
    const rule = certificateRules().groups[0]!.rules[0]!;
    expect(rule).toMatchObject({ alert: CERTIFICATE_ALERT, expr: `${CERTIFICATE_EXPIRY_METRIC} - time() < 1209600`, labels: { severity: "warning" } });
    expect(parse(readFileSync("prometheus/prometheus.yml", "utf8")).rule_files).toContain("rules/etl-certificates.yml");
    expect(readFileSync("docs/runbook.md", "utf8")).toContain(`## ${CERTIFICATE_ALERT}`);
  });
});

describe.skipIf(!hasPromtool && process.env.CI !== "true")("promtool (apt-get install prometheus)", () => {
  const run = (rules: string, tests: string) => {
    writeFileSync(join(dir, "etl-certificates.yml"), rules);
    writeFileSync(join(dir, "etl-certificates.test.yml"), tests);
    return spawnSync("promtool", ["test", "rules", join(dir, "etl-certificates.test.yml")], { encoding: "utf8" });
  };

  it("passes check rules and the generated unit tests", () => {
    expect(spawnSync("promtool", ["check", "rules", CERTIFICATE_RULES_PATH], { encoding: "utf8" }).stdout).toContain("SUCCESS: 1 rules found");
    const result = run(certificateRulesYaml(), certificateRuleTestsYaml());
    expect(result.stdout + result.stderr).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("would catch a rule warning a day late (the tests are real)", () => {
    expect(run(certificateRulesYaml().replace("< 1209600", "< 1123200"), certificateRuleTestsYaml()).status).not.toBe(0);
  });
});
