import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { parseDuration } from "../../lib/alerts/duration.ts";
import {
  batchPlans,
  boundaryPlans,
  encodeValues,
  promtoolGroup,
  type PromtoolTestFile,
  RULES_TEST_PATH,
  ruleTestFile,
  ruleTestsYaml,
} from "./rule_tests.ts";
import { ALERT_NAMES, alertDefinitions, alertParamsForSpeed, alertRulesYaml, PRODUCTION_ALERT_PARAMS, RULES_PATH, toYaml } from "../../lib/alerts/rules.ts";
import { simulateScrapes } from "./simulated_series.ts";
import { parseCatalog } from "../../lib/catalog/catalog.ts";
import { DEFAULT_BATCH_PROFILE } from "../../lib/simulator/batch.ts";

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const requireRealTools = process.env.CI === "true";
const PROMTOOL = "needs promtool: apt-get install prometheus";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function promtoolTest(rules: string, tests: string) {
  const dir = mkdtempSync(join(tmpdir(), "etl-rule-tests-"));
  dirs.push(dir);
  writeFileSync(join(dir, "etl-alerts.yml"), rules);
  writeFileSync(join(dir, "etl-alerts.test.yml"), tests);
  return spawnSync("promtool", ["test", "rules", join(dir, "etl-alerts.test.yml")], { encoding: "utf8" });
}

describe("encodeValues", () => {
  it("writes promtool's expanding notation", () => {
    expect(encodeValues([null, null, 1, 2, 3, 3, "stale"])).toBe("_x2 1+1x2 3 stale");
    expect(encodeValues([5, 5, 5, 5])).toBe("5+0x3");
    expect(encodeValues([9, 7, 5])).toBe("9-2x2");
    expect(encodeValues([0.5, 1.5, 2.5])).toBe("0.5 1.5 2.5"); // only exact integer runs are folded
    expect(encodeValues([null])).toBe("_");
  });
});

describe("the published promtool tests", () => {
  const published = readFileSync(RULES_TEST_PATH, "utf8");
  const file = parse(published) as PromtoolTestFile;
  const e = parseDuration(file.evaluation_interval);

  it(`are current in ${RULES_TEST_PATH} (run the build:rules script after changing lib/alerts/)`, async () => {
    expect(published).toBe(await ruleTestsYaml());
  });

  it("test every alert at the boundary of its `for`: silent one evaluation before, firing for orders only", () => {
    for (const alert of ALERT_NAMES) {
      const groups = file.tests.filter((g) => g.name.startsWith(`${alert}:`));
      expect(groups.length, alert).toBeGreaterThan(0);
      for (const g of groups) {
        const checks = g.alert_rule_test.filter((c) => c.alertname === alert);
        const firing = checks.filter((c) => c.exp_alerts.length > 0);
        expect(firing, g.name).toHaveLength(1);
        const at = parseDuration(firing[0]!.eval_time);
        const before = checks.find((c) => parseDuration(c.eval_time) === at - e);
        expect(before?.exp_alerts, `${g.name}: one evaluation before`).toEqual([]);
        // One alert, for the side meant to fire; the quiet side never fires in the whole run.
        expect(firing[0]!.exp_alerts).toHaveLength(1);
        const labels = firing[0]!.exp_alerts[0]!.exp_labels;
        if (alert === "EtlMetricsEndpointDown") expect(labels.job).toMatch(/^etl-(metrics|simulator)$/);
        else expect(labels.pipeline).toBe("orders");
        const summary = g.promql_expr_test.find((p) => p.expr.startsWith("max_over_time(ALERTS"))!;
        expect(summary.exp_samples).toHaveLength(1);
        expect(summary.exp_samples[0]!.labels).toContain(`alertname="${alert}"`);
      }
    }
  });

  it("include runs of each scenario and of normal running, where nothing fires", () => {
    const names = file.tests.map((g) => g.name);
    for (const s of ["stall", "crash", "slow", "error-burst", "low-throughput"]) expect(names.some((n) => n.startsWith(`scenario ${s}`)), s).toBe(true);
    const normal = file.tests.find((g) => g.name.startsWith("normal running"))!;
    expect(parseDuration(normal.promql_expr_test[0]!.eval_time)).toBeGreaterThanOrEqual(7200);
    expect(normal.promql_expr_test[0]!.exp_samples).toEqual([]);
    expect(normal.alert_rule_test).toEqual([]);
  });

  it("expect each scenario's own alert, and nothing for customers outside a crash", () => {
    const fired = (prefix: string) =>
      file.tests.find((g) => g.name.startsWith(prefix))!.promql_expr_test[0]!.exp_samples.map((s) => s.labels);
    expect(fired("scenario slow").join()).toContain('alertname="EtlSlowProcessing"');
    expect(fired("scenario error-burst").join()).toContain('alertname="EtlHighFailureRate"');
    expect(fired("scenario low-throughput").join()).toContain('alertname="EtlLowThroughput"');
    expect(fired("scenario stall").join()).toContain('alertname="EtlHealthCheckFailed"');
    expect(fired("scenario crash").join()).toContain('alertname="EtlMetricsEndpointDown"');
    for (const g of file.tests.filter((t) => t.name.startsWith("scenario") && !t.name.startsWith("scenario crash"))) {
      expect(g.promql_expr_test[0]!.exp_samples.map((s) => s.labels).join(), g.name).not.toContain('pipeline="customers"');
    }
  });

  it("render every annotation the rules define, with the runbook URL", () => {
    const defs = alertDefinitions();
    for (const g of file.tests) {
      for (const c of g.alert_rule_test) {
        for (const a of c.exp_alerts) {
          expect(Object.keys(a.exp_annotations).sort()).toEqual(["description", "runbook_url", "summary"]);
          expect(a.exp_annotations.runbook_url).toBe(`docs/runbook.md#${c.alertname.toLowerCase()}`);
          expect(defs.filter((d) => d.name === c.alertname).map((d) => d.severity)).toContain(a.exp_labels.severity);
        }
      }
    }
  });
});

describe("batch pipelines against the always-on alerts", () => {
  const file = parse(readFileSync(RULES_TEST_PATH, "utf8")) as PromtoolTestFile;
  const firedIn = (prefix: string) => file.tests.find((g) => g.name.startsWith(prefix))!.promql_expr_test[0]!.exp_samples.map((s) => s.labels);

  it("fire nothing for pipelines idle between runs, and would without the between-runs gauge", () => {
    expect(firedIn("batch idle")).toEqual([]);
    const plan = batchPlans(PRODUCTION_ALERT_PARAMS).find((p) => p.name.startsWith("batch idle"))!;
    const withoutGauge = { ...plan, set: { ...plan.set, series: plan.set.series.filter((s) => s.name !== "etl_pipeline_between_runs") } };
    const fired = promtoolGroup(PRODUCTION_ALERT_PARAMS, withoutGauge).promql_expr_test[0]!.exp_samples.map((s) => s.labels).join();
    for (const alert of ["EtlNoSuccessIn10Minutes", "EtlLowThroughput"]) expect(fired).toContain(`alertname="${alert}"`);
  });

  it("fire as always for a run in progress that goes silent and for a silent service", () => {
    const fired = firedIn("batch silent run");
    for (const pipeline of ["orders", "customers"]) {
      for (const alert of ["EtlHealthCheckFailed", "EtlNoSuccessIn10Minutes", "EtlLowThroughput"]) {
        expect(fired.some((l) => l.includes(`alertname="${alert}"`) && l.includes(`pipeline="${pipeline}"`)), `${alert} ${pipeline}`).toBe(true);
      }
    }
    expect(fired).toHaveLength(6);
  });

  it("give a batch run its no-success threshold from its start, then fire", () => {
    const group = file.tests.find((g) => g.name.startsWith("batch run start"))!;
    const checks = group.alert_rule_test.filter((c) => c.alertname === "EtlNoSuccessIn10Minutes");
    // The run starts at 12m30s: silent until 10 minutes of it have passed, firing just after.
    expect(checks.map((c) => [c.eval_time, c.exp_alerts.length])).toEqual([["22m30s", 0], ["22m45s", 1]]);
  });

  it("make a pipeline late at its deadline, and critical a whole interval later", () => {
    expect(firedIn("batch late").map((l) => /severity="(\w+)"/.exec(l)![1])).toEqual(["critical", "warning"]);
  });
});

describe("the generator", () => {
  it("refuses a boundary design that does not fire where its title says", () => {
    const plan = boundaryPlans(PRODUCTION_ALERT_PARAMS).find((p) => p.boundary?.alert === "EtlHealthCheckFailed")!;
    const healthy = {
      ...plan,
      set: { ...plan.set, series: plan.set.series.map((s) => (s.name === "etl_health_status" ? { ...s, values: s.values.map(() => 1) } : s)) },
    };
    expect(() => promtoolGroup(PRODUCTION_ALERT_PARAMS, healthy)).toThrow(/expected exactly one EtlHealthCheckFailed/);
  });
});

describe.skipIf(!hasPromtool && !requireRealTools)(`promtool test rules (${PROMTOOL})`, () => {
  it("passes on the published tests and rules", () => {
    const run = spawnSync("promtool", ["test", "rules", resolve(RULES_TEST_PATH)], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
    expect(readFileSync(RULES_PATH, "utf8")).toBe(alertRulesYaml());
  }, 60_000);

  it("fails when a rule changes under the tests (the tests are real)", () => {
    const run = promtoolTest(alertRulesYaml().replace("for: 2m", "for: 1m45s"), readFileSync(RULES_TEST_PATH, "utf8"));
    expect(run.status).not.toBe(0);
  }, 60_000);

  it.each([
    [60, 1],
    [10, 5],
    [30, 2],
  ])("passes on the rules and tests scaled for speed %s, scrape every %s s", async (speed, g) => {
    const params = alertParamsForSpeed(speed, { scrapeIntervalSeconds: g });
    const run = promtoolTest(alertRulesYaml(params), await ruleTestsYaml(params));
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  }, 60_000);

  it("fires nothing in 24 hours of normal running of two always-on pipelines and two batch jobs", async () => {
    // The batch jobs' catalog: due hourly and every 15 minutes, thresholds a normal run never crosses.
    const parsed = parseCatalog([
      "pipelines:",
      "  nightly: { schedule: '0 * * * *', max_run_duration: 10m, min_records: 100 }",
      "  quarterly: { every: 15m, max_run_duration: 5m, min_records: 100 }",
    ].join("\n"));
    if (!parsed.ok) throw new Error(parsed.problems.join());
    const batch = { ...DEFAULT_BATCH_PROFILE, everyMs: 3_600_000 };
    const set = await simulateScrapes({
      pipelines: [
        { name: "orders", seed: 11 },
        { name: "customers", seed: 12 },
        { name: "nightly", seed: 13, batch },
        { name: "quarterly", seed: 14, batch: { ...batch, everyMs: 900_000 } },
      ],
      durationSeconds: 86_400,
      scrapeIntervalSeconds: 15,
      catalog: parsed.catalog,
    });
    // The batch jobs ran all day, and were idle between runs most of it.
    const between = set.series.find((x) => x.name === "etl_pipeline_between_runs" && x.labels.pipeline === "nightly")!.values;
    expect(between.filter((v) => v === 1).length / between.length).toBeGreaterThan(0.9);
    const runs = set.series.find((x) => x.name === "etl_last_successful_run_records" && x.labels.pipeline === "quarterly")!;
    expect(runs.values.filter((v) => typeof v === "number").length).toBeGreaterThan(5000);
    const group = promtoolGroup(PRODUCTION_ALERT_PARAMS, { name: "24 h soak", kind: "normal", set, horizonSeconds: 86_400 });
    expect(group.promql_expr_test[0]!.exp_samples).toEqual([]);
    const file = await ruleTestFile(PRODUCTION_ALERT_PARAMS, { boundaryOnly: true });
    const run = promtoolTest(alertRulesYaml(), toYaml({ ...file, tests: [group] }));
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  }, 120_000);
});
