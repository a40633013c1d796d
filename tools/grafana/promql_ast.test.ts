import { describe, expect, it } from "vitest";
import { promqlSyntaxErrors, selectorsOf } from "./promql_ast.ts";

describe("promqlSyntaxErrors", () => {
  it.each([
    'up{job="etl-metrics"}',
    "sum by (pipeline) (rate(etl_records_total[5m]))",
    'histogram_quantile(0.95, sum by (le) (rate(x_bucket{a=~"b|"}[4s])))',
    "count(ALERTS) or vector(0)",
    'label_replace(vector(0), "alertname", "A", "", "") or on (alertname) up',
    "time() - max by (pipeline) (x)",
  ])("accepts %s", (expr) => {
    expect(promqlSyntaxErrors(expr)).toEqual([]);
  });

  it.each([
    "",
    "sum(rate(x[5m])",
    "up{job=}",
    "rate(x[$__rate_interval])",
    "x{a=~'b'",
    "sum by pipeline (x)",
  ])("rejects %j", (expr) => {
    expect(promqlSyntaxErrors(expr).length).toBeGreaterThan(0);
  });
});

describe("selectorsOf", () => {
  it("reads metric, matchers, range and the functions around a selector", () => {
    const [a, b, c] = selectorsOf(
      'sum by (p) (increase(x_total{job="j", p=~".+"}[1h])) / histogram_quantile(0.9, sum by (le) (rate(y_bucket[5m]))) + z{"job"!~\'a\\\'b\'}',
    );
    expect(a).toMatchObject({
      metric: "x_total",
      matchers: [{ name: "job", op: "=", value: "j" }, { name: "p", op: "=~", value: ".+" }],
      range: "1h",
      rangeFunction: "increase",
      enclosingFunctions: ["increase", "sum"],
    });
    expect(b).toMatchObject({ metric: "y_bucket", range: "5m", rangeFunction: "rate", enclosingFunctions: ["rate", "sum", "histogram_quantile"] });
    expect(c).toMatchObject({ metric: "z", matchers: [{ name: "job", op: "!~", value: "a'b" }], range: undefined, rangeFunction: undefined });
  });

  it("tells a raw counter from a rated one", () => {
    const [raw] = selectorsOf("sum by (p) (x_total)");
    expect(raw).toMatchObject({ range: undefined, rangeFunction: undefined, enclosingFunctions: ["sum"] });
    const [over] = selectorsOf("max_over_time(x_total[5m])");
    expect(over!.rangeFunction).toBe("max_over_time");
  });
});
