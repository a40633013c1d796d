import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toYaml } from "./rules.ts";
import { goFixed, humanizeDuration, ifLabel, label, renderTemplate, template, toGoTemplate, value } from "./template.ts";

describe("humanizeDuration (a port of Prometheus's template function)", () => {
  // Expected strings as Prometheus 2.42 renders them; the generated promtool
  // tests check the same port against the real thing.
  it.each([
    [0, "0s"],
    [1, "1s"],
    [52.5, "52.5s"],
    [59.99, "59.99s"],
    [12.3456, "12.35s"],
    [60, "1m 0s"],
    [615, "10m 15s"],
    [615.9, "10m 15s"],
    [3600, "1h 0m 0s"],
    [90_061, "1d 1h 1m 1s"],
    [-75, "-1m 15s"],
    [0.25, "250ms"],
    [0.0001, "100us"],
    [Number.NaN, "NaN"],
  ])("%s → %s", (seconds, text) => {
    expect(humanizeDuration(seconds)).toBe(text);
  });
});

describe("goFixed (Go's %f)", () => {
  it("rounds exact ties half to even, like Go", () => {
    expect(goFixed(52.5, 0)).toBe("52");
    expect(goFixed(53.5, 0)).toBe("54");
    expect(goFixed(-2.5, 0)).toBe("-2");
    expect(goFixed(0.125, 2)).toBe("0.12");
    expect(goFixed(0.375, 2)).toBe("0.38");
    expect(goFixed(0.5, 0)).toBe("0");
    expect(goFixed(0.595, 2)).toBe("0.59");
    expect(goFixed(1.005, 2)).toBe("1.00");
    expect(goFixed(12.34, 1)).toBe("12.3");
  });
});

describe("templates", () => {
  const t = template`Pipeline ${label("pipeline")} at ${value("fixed2")}/s for ${value("duration")}; ${ifLabel(
    "instance",
    template`on ${label("instance")}`,
    template`nowhere`,
  )} (${3} of ${"them"})`;

  it("render to Go template text", () => {
    expect(toGoTemplate(t)).toBe(
      'Pipeline {{ $labels.pipeline }} at {{ printf "%.2f" $value }}/s for {{ $value | humanizeDuration }}; ' +
        "{{ if $labels.instance }}on {{ $labels.instance }}{{ else }}nowhere{{ end }} (3 of them)",
    );
  });

  it("render to what Prometheus prints", () => {
    expect(renderTemplate(t, { labels: { pipeline: "orders", instance: "x:1" }, value: 75.5 })).toBe(
      "Pipeline orders at 75.50/s for 1m 15s; on x:1 (3 of them)",
    );
    expect(renderTemplate(t, { labels: { pipeline: "orders" }, value: 0.125 })).toBe(
      "Pipeline orders at 0.12/s for 125ms; nowhere (3 of them)",
    );
  });

  it("merges adjacent text and refuses braces in it", () => {
    expect(template`a${"b"}c`).toEqual([{ kind: "text", text: "abc" }]);
    expect(() => toGoTemplate(template`{{ oops }}`)).toThrow(/braces/);
    expect(() => label("not-a-label")).toThrow();
  });
});

describe("the port agrees with Prometheus (promtool)", () => {
  const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
  const requireRealTools = process.env.CI === "true";
  const values = [0, 1, 52.5, 59.99, 12.3456, 12.125, 615.9, 3600, 90_061, -75, -2.5, 0.25, 0.125, 0.0001, 0.59500000000000008, 0.595, 1234.5678, 999.9999];
  const t = template`${value("duration")} | ${value("fixed0")} | ${value("fixed2")}`;

  it.skipIf(!hasPromtool && !requireRealTools)("for every value (needs promtool: apt-get install prometheus)", () => {
    const dir = mkdtempSync(join(tmpdir(), "etl-template-"));
    try {
      const rules = {
        groups: [
          {
            name: "t",
            rules: values.map((v, i) => ({ alert: `V${i}`, expr: `vector(${v})`, annotations: { text: toGoTemplate(t) } })),
          },
        ],
      };
      const tests = {
        rule_files: ["rules.yml"],
        tests: [
          {
            interval: "1m",
            input_series: [],
            alert_rule_test: values.map((v, i) => ({
              eval_time: "0s",
              alertname: `V${i}`,
              exp_alerts: [{ exp_labels: {}, exp_annotations: { text: renderTemplate(t, { labels: {}, value: v }) } }],
            })),
          },
        ],
      };
      writeFileSync(join(dir, "rules.yml"), toYaml(rules));
      writeFileSync(join(dir, "rules.test.yml"), toYaml(tests));
      const run = spawnSync("promtool", ["test", "rules", join(dir, "rules.test.yml")], { encoding: "utf8" });
      expect(run.stdout + run.stderr).toContain("SUCCESS");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
