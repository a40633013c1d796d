import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { PRODUCTION_ALERT_PARAMS, RULES_PATH, type RuleFile, toYaml } from "../alerts/rules.ts";
import { DASHBOARD_PATH } from "../dashboard/dashboard.ts";
import { ALERT_PREFIX, MIXIN_DIR, MIXIN_SEVERITIES, mixinConfig, mixinFiles, recordingRules } from "./mixin.ts";

interface MixinAlert { alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> }
const read = (name: string) => readFileSync(join(MIXIN_DIR, name), "utf8");
const alerts = () => (parse(read("prometheus_alerts.yaml")) as { groups: { name: string; rules: MixinAlert[] }[] }).groups;
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const required = process.env.CI === "true";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("mixin/", () => {
  it("is current (run `npm run build:mixin` after changing the rules, the dashboard or lib/mixin/)", () => {
    const files = mixinFiles();
    for (const [name, text] of Object.entries(files)) expect(read(name), name).toBe(text);
    const listed = readdirSync(MIXIN_DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(MIXIN_DIR.length + 1)).sort();
    expect(listed).toEqual([...Object.keys(files), "README.md", "mixin.libsonnet"].sort());
  });

  it("ships the committed dashboard unchanged", () => {
    expect(read("dashboards_out/etl-monitoring.json")).toBe(readFileSync(DASHBOARD_PATH, "utf8"));
  });

  it("alerts on exactly what prometheus/rules/etl-alerts.yml alerts on", () => {
    // The rule file's recording group (the volume median) is among the mixin's recording rules.
    const published = [(parse(readFileSync(RULES_PATH, "utf8")) as RuleFile).groups[0]];
    const mine = alerts();
    expect(mine.map((g) => g.name)).toEqual(published.map((g) => g.name));
    for (const [i, g] of mine.entries()) {
      expect(g.rules.map(({ alert, expr, for: f, labels }) => ({ alert, expr, for: f, labels })))
        .toEqual(published[i]!.rules.map(({ alert, expr, for: f, labels }) => ({ alert, expr, for: f, labels })));
      expect(g.rules.map((r) => r.annotations.description)).toEqual(published[i]!.rules.map((r) => r.annotations.description));
    }
  });

  it("follows the mixin conventions for alerts", () => {
    for (const rule of alerts().flatMap((g) => g.rules)) {
      expect(rule.alert).toMatch(new RegExp(`^${ALERT_PREFIX}([A-Z][a-z0-9]*)+$`));
      expect(MIXIN_SEVERITIES).toContain(rule.labels.severity);
      expect(Object.keys(rule.annotations).sort()).toEqual(["dashboard_url", "description", "runbook_url", "summary"]);
      expect(rule.annotations.summary).toMatch(/^[A-Z].*\.$/);
      expect(rule.annotations.description!.length).toBeGreaterThan(rule.annotations.summary!.length);
      expect(rule.annotations.runbook_url).toBe(`docs/runbook.md#${rule.alert.toLowerCase()}`);
      expect(rule.annotations.dashboard_url).toBe("http://127.0.0.1:3000/d/etl-monitoring");
    }
  });

  it("names recording rules level:metric:operations and reads only the exporter's job", () => {
    for (const r of recordingRules(mixinConfig())) {
      expect(r.record).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
      expect(r.expr).toContain('{job="etl-metrics"}');
    }
  });

  it("keeps the production thresholds in config.json, and puts other addresses in a copy", () => {
    const config = JSON.parse(read("config.json"));
    expect(config.thresholds.highFailureRate).toEqual(PRODUCTION_ALERT_PARAMS.highFailureRate);
    expect(config.etlExporterSelector).toBe('job="etl-metrics"');
    const custom = mixinFiles({ runbookUrl: "https://forge.example/etl/docs/runbook.md", grafanaUrl: "https://grafana.example/" });
    const rule = (parse(custom["prometheus_alerts.yaml"]!) as { groups: { rules: MixinAlert[] }[] }).groups[0]!.rules[0]!;
    expect(rule.annotations.runbook_url).toBe("https://forge.example/etl/docs/runbook.md#etlmetricsendpointdown");
    expect(rule.annotations.dashboard_url).toBe("https://grafana.example/d/etl-monitoring");
  });
});

describe.skipIf(!hasPromtool && !required)("promtool on the mixin (apt-get install prometheus)", () => {
  it("passes `promtool check rules` on the alerts and the recording rules", () => {
    const run = spawnSync("promtool", ["check", "rules", join(MIXIN_DIR, "prometheus_alerts.yaml"), join(MIXIN_DIR, "prometheus_rules.yaml")], { encoding: "utf8" });
    const alertCount = alerts().flatMap((g) => g.rules).length;
    expect(run.stdout).toContain(`SUCCESS: ${alertCount} rules found`);
    expect(run.stdout).toContain(`SUCCESS: ${recordingRules(mixinConfig()).length} rules found`);
    expect(run.status).toBe(0);
  });

  it("computes the recording rules' values (promtool test rules), with no double counting across instances", () => {
    const dir = mkdtempSync(join(tmpdir(), "etl-mixin-"));
    dirs.push(dir);
    writeFileSync(join(dir, "rules.yaml"), read("prometheus_rules.yaml"));
    // Two exporters (instances) of one pipeline, 10 and 20 records/s; one of them unhealthy.
    const tests = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "15s",
      tests: [{
        interval: "15s",
        input_series: [
          { series: 'etl_records_total{job="etl-metrics",instance="a:8083",pipeline="orders"}', values: "0+150x40" },
          { series: 'etl_records_total{job="etl-metrics",instance="b:8083",pipeline="orders"}', values: "0+300x40" },
          { series: 'etl_records_total{job="etl-simulator",instance="a:8000",pipeline="orders"}', values: "0+150x40" },
          { series: 'etl_health_status{job="etl-metrics",instance="a:8083",pipeline="orders"}', values: "1x40" },
          { series: 'etl_health_status{job="etl-metrics",instance="b:8083",pipeline="orders"}', values: "0x40" },
        ],
        promql_expr_test: [
          { expr: "job_pipeline:etl_records:rate5m", eval_time: "10m", exp_samples: [{ labels: 'job_pipeline:etl_records:rate5m{job="etl-metrics",pipeline="orders"}', value: 30 }] },
          { expr: "job:etl_pipelines_unhealthy:count", eval_time: "10m", exp_samples: [{ labels: 'job:etl_pipelines_unhealthy:count{job="etl-metrics"}', value: 1 }] },
        ],
      }],
    };
    writeFileSync(join(dir, "tests.yaml"), toYaml(tests));
    const run = spawnSync("promtool", ["test", "rules", "tests.yaml"], { cwd: dir, encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });
});
