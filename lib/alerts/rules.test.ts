import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { DURATION_BUCKETS_SECONDS } from "../etl/state.ts";
import { parseDuration } from "./duration.ts";
import {
  ALERT_NAMES,
  alertDefinitions,
  type AlertParams,
  alertParamsForSpeed,
  alertRules,
  alertRulesYaml,
  PRODUCTION_ALERT_PARAMS,
  type RuleFile,
  RULES_PATH,
  RUNBOOK_PATH,
} from "./rules.ts";

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const requireRealTools = process.env.CI === "true";
const PROMTOOL = "needs promtool: apt-get install prometheus";

/** The speeds and scrape intervals the scaled rules are checked at. */
const SCALED: Array<[number, number]> = [
  [60, 1],
  [10, 5],
  [30, 2],
  [600, 1],
  [1000, 15],
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-"));
  }
  return out;
}

/** Every range selector's duration in an expression. */
function rangeWindows(expr: string): number[] {
  return [...expr.matchAll(/\[([0-9a-z]+)\]/g)].map((m) => parseDuration(m[1]!));
}

describe("the alert rules", () => {
  it(`are current in ${RULES_PATH} (run the build:rules script after changing lib/alerts/)`, () => {
    expect(readFileSync(RULES_PATH, "utf8")).toBe(alertRulesYaml());
  });

  it("are the six alerts of the issue and the five of batch runs, CamelCase, with the issues' severities", () => {
    const rules = alertRules().groups[0]!.rules;
    expect([...new Set(rules.map((r) => r.alert))]).toEqual([...ALERT_NAMES]);
    for (const r of rules) expect(r.alert).toMatch(/^Etl(?:[A-Z][a-z0-9]*)+$/);
    expect(rules.map((r) => `${r.alert} ${r.labels.severity}`)).toEqual([
      "EtlMetricsEndpointDown critical",
      "EtlHealthCheckFailed critical",
      "EtlNoSuccessIn10Minutes warning",
      "EtlHighFailureRate warning",
      "EtlLowThroughput warning",
      "EtlSlowProcessing warning",
      // Late is written twice: warning at the deadline, critical a whole interval later.
      "EtlPipelineLate warning",
      "EtlPipelineLate critical",
      "EtlRunFailed warning",
      "EtlRunTooLong warning",
      "EtlEmptyRun warning",
      "EtlVolumeDrop warning",
    ]);
  });

  it("hold the always-on alerts off between runs, and read the run thresholds from the exporter's gauges", () => {
    const exprs = new Map(alertDefinitions().map((d) => [`${d.name} ${d.severity}`, d.expr]));
    for (const name of ["EtlHighFailureRate", "EtlLowThroughput", "EtlSlowProcessing"]) {
      expect(exprs.get(`${name} warning`)).toMatch(/\nunless on\(job, instance, pipeline\) etl_pipeline_between_runs\{job="etl-metrics"\} == 1(\n|$)/);
    }
    // A batch run younger than the rate's window is not judged on it.
    expect(exprs.get("EtlLowThroughput warning")).toMatch(
      /\nunless on\(job, instance, pipeline\) \(time\(\) - etl_last_run_start_timestamp_seconds\{job="etl-metrics"\} < 600 and on\(job, instance, pipeline\) etl_pipeline_info\{job="etl-metrics", kind="batch"\}\)$/,
    );
    expect(exprs.get("EtlNoSuccessIn10Minutes warning")).toBe([
      'time() - etl_last_success_timestamp_seconds{job="etl-metrics"} > 600',
      'unless on(job, instance, pipeline) etl_pipeline_between_runs{job="etl-metrics"} == 1',
      'unless on(job, instance, pipeline) (time() - etl_last_run_start_timestamp_seconds{job="etl-metrics"} <= 600 and on(job, instance, pipeline) etl_pipeline_info{job="etl-metrics", kind="batch"})',
    ].join("\n"));
    expect(exprs.get("EtlHealthCheckFailed critical")).toBe('etl_health_status{job="etl-metrics"} == 0');
    expect(exprs.get("EtlPipelineLate warning")).toBe('time() - etl_deadline_timestamp_seconds{job="etl-metrics"} > 0');
    expect(exprs.get("EtlPipelineLate critical")).toBe(
      'time() - etl_deadline_timestamp_seconds{job="etl-metrics"} > on(job, instance, pipeline) group_left() etl_schedule_interval_seconds{job="etl-metrics"}',
    );
    expect(exprs.get("EtlVolumeDrop warning")).toBe(
      'etl_last_successful_run_records{job="etl-metrics"} < on(job, instance, pipeline) group_left() (0.5 * etl:last_successful_run_records:median_7d{job="etl-metrics"})',
    );
    expect(alertRules().groups[1]).toEqual({
      name: "etl-recordings",
      interval: "1m",
      rules: [{ record: "etl:last_successful_run_records:median_7d", expr: 'quantile_over_time(0.5, etl_last_successful_run_records{job="etl-metrics"}[7d])' }],
    });
  });

  it("give every rule a summary, a description and a runbook_url whose anchor exists in the runbook", () => {
    const published = parse(readFileSync(RULES_PATH, "utf8")) as RuleFile;
    const sections = anchors(readFileSync(RUNBOOK_PATH, "utf8"));
    for (const r of published.groups[0]!.rules) {
      expect(r.labels.severity, r.alert).toMatch(/^(critical|warning)$/);
      expect(r.annotations.summary.length, r.alert).toBeGreaterThan(10);
      expect(r.annotations.description.length, r.alert).toBeGreaterThan(30);
      const [doc, anchor] = r.annotations.runbook_url.split("#");
      expect(doc).toBe(RUNBOOK_PATH);
      expect(sections, `${r.alert}: #${anchor} in ${RUNBOOK_PATH}`).toContain(anchor);
      expect(anchor).toBe(r.alert.toLowerCase());
    }
  });

  it("template the pipeline into every pipeline alert, and the job into the endpoint alert", () => {
    for (const r of alertRules().groups[0]!.rules) {
      const text = r.annotations.summary + r.annotations.description;
      if (r.alert === "EtlMetricsEndpointDown") {
        expect(text).toContain("{{ $labels.job }}");
        expect(text).toContain("{{ $labels.instance }}");
      } else {
        expect(text).toContain("{{ $labels.pipeline }}");
      }
    }
  });

  it("read pipeline series from the exporter's job only (the simulator serves the same families)", () => {
    for (const d of alertDefinitions()) {
      if (d.name === "EtlMetricsEndpointDown") continue;
      for (const selector of d.expr.match(/\betl[_:][a-z0-9_:]+(\{[^}]*\})?/g)!) {
        expect(selector, d.name).toMatch(new RegExp(`\\{job="${PRODUCTION_ALERT_PARAMS.exporterJob}"[,}]`));
      }
    }
  });

  it("catch a target that is down and one that vanished, for both jobs", () => {
    const expr = alertDefinitions().find((d) => d.name === "EtlMetricsEndpointDown")!.expr;
    expect(expr).toContain('up{job=~"etl-metrics|etl-simulator"} == 0');
    expect(expr).toContain('absent(up{job="etl-metrics"})');
    expect(expr).toContain('absent(up{job="etl-simulator"})');
  });

  it("use the last-success timestamp and the duration histogram", () => {
    const exprs = Object.fromEntries(alertDefinitions().map((d) => [d.name, d.expr]));
    expect(exprs.EtlNoSuccessIn10Minutes).toMatch(/^time\(\) - etl_last_success_timestamp_seconds\{[^}]*\} > 600\n/);
    expect(exprs.EtlSlowProcessing).toMatch(/^histogram_quantile\(0\.95, rate\(etl_file_processing_duration_seconds_bucket\{/);
  });

  it("keep every rate window at 4 scrape intervals or more, in production and scaled", () => {
    const all: AlertParams[] = [PRODUCTION_ALERT_PARAMS, ...SCALED.map(([s, g]) => alertParamsForSpeed(s, { scrapeIntervalSeconds: g }))];
    for (const params of all) {
      const windows = alertDefinitions(params).flatMap((d) => rangeWindows(d.expr));
      expect(windows.length).toBe(3); // the 7-day median is the recording rule's
      for (const w of windows) expect(w, `speed ${params.speed}`).toBeGreaterThanOrEqual(4 * params.scrapeIntervalSeconds);
    }
  });
});

describe("alertParamsForSpeed", () => {
  it("at speed 1 and a 15 s scrape gives the production parameters", () => {
    expect(alertParamsForSpeed(1, { scrapeIntervalSeconds: 15 })).toEqual(PRODUCTION_ALERT_PARAMS);
  });

  it("multiplies rate thresholds, divides durations, windows and for", () => {
    const p = alertParamsForSpeed(60, { scrapeIntervalSeconds: 1 });
    expect(p.lowThroughput).toEqual({ windowSeconds: 10, threshold: 60, forSeconds: 5 });
    expect(p.highFailureRate).toEqual({ windowSeconds: 5, threshold: 20, forSeconds: 2 });
    expect(p.noSuccess).toEqual({ thresholdSeconds: 10, forSeconds: 0 });
    expect(p.slowProcessing).toEqual({ quantile: 0.95, windowSeconds: 15, thresholdSeconds: 1, forSeconds: 5 });
    expect(p.healthCheckFailed.forSeconds).toBe(2);
    expect(p.endpointDown.forSeconds).toBe(1);
  });

  it("never goes under 4 scrape intervals, and counts more failures in a lengthened window", () => {
    const p = alertParamsForSpeed(600, { scrapeIntervalSeconds: 1 });
    expect(p.highFailureRate.windowSeconds).toBe(4); // 300/600 = 0.5 s, floored
    expect(p.highFailureRate.threshold).toBe(160); // 4 s cover 40 profile minutes: 8 windows' worth
    expect(p.noSuccess.thresholdSeconds).toBe(4);
    expect(p.lowThroughput.windowSeconds).toBe(4);
  });

  it("rounds windows up to whole scrapes and for up to whole evaluations", () => {
    const p = alertParamsForSpeed(7, { scrapeIntervalSeconds: 2, evaluationIntervalSeconds: 4 });
    for (const w of [p.highFailureRate.windowSeconds, p.lowThroughput.windowSeconds, p.slowProcessing.windowSeconds]) {
      expect(w % 2).toBe(0);
    }
    for (const f of [p.highFailureRate.forSeconds, p.lowThroughput.forSeconds, p.healthCheckFailed.forSeconds]) expect(f % 4).toBe(0);
  });

  it("puts the slow-processing threshold on a histogram bucket bound", () => {
    for (const [speed, g] of SCALED) {
      const p = alertParamsForSpeed(speed, { scrapeIntervalSeconds: g });
      expect(DURATION_BUCKETS_SECONDS).toContain(p.slowProcessing.thresholdSeconds);
      expect(p.slowProcessing.thresholdSeconds).toBeGreaterThanOrEqual(Math.min(60 / speed, DURATION_BUCKETS_SECONDS[0]!));
    }
    expect(alertParamsForSpeed(30, { scrapeIntervalSeconds: 1 }).slowProcessing.thresholdSeconds).toBe(2.5);
  });

  it("refuses a speed under 1 and non-positive intervals", () => {
    expect(() => alertParamsForSpeed(0.5, { scrapeIntervalSeconds: 1 })).toThrow(RangeError);
    expect(() => alertParamsForSpeed(Number.NaN, { scrapeIntervalSeconds: 1 })).toThrow(RangeError);
    expect(() => alertParamsForSpeed(2, { scrapeIntervalSeconds: 0 })).toThrow(RangeError);
  });

  it("marks the scaled copy as not for deployment", () => {
    expect(alertRulesYaml(alertParamsForSpeed(60, { scrapeIntervalSeconds: 1 }))).toMatch(/^# .*60x faster.*\n# FOR THE LIVE TEST ONLY/);
    expect(alertRulesYaml()).not.toContain("LIVE TEST");
  });
});

describe.skipIf(!hasPromtool && !requireRealTools)(`promtool check rules (${PROMTOOL})`, () => {
  const check = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "etl-rules-"));
    dirs.push(dir);
    writeFileSync(join(dir, "etl-alerts.yml"), text);
    return spawnSync("promtool", ["check", "rules", join(dir, "etl-alerts.yml")], { encoding: "utf8" });
  };

  it("passes on the published rules", () => {
    const run = spawnSync("promtool", ["check", "rules", RULES_PATH], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS: 13 rules found");
    expect(run.status).toBe(0);
  });

  it.each(SCALED)("passes on the rules scaled for speed %s, scrape every %s s", (speed, g) => {
    const run = check(alertRulesYaml(alertParamsForSpeed(speed, { scrapeIntervalSeconds: g })));
    expect(run.stdout + run.stderr).toContain("SUCCESS: 13 rules found");
    expect(run.status).toBe(0);
  });

  it("would catch a broken expression (the check is real)", () => {
    const run = check(alertRulesYaml().replace("> 20", "> > 20"));
    expect(run.status).not.toBe(0);
  });
});
