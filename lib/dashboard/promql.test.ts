import { describe, expect, it } from "vitest";
import {
  etlSelector,
  EXPORTER_JOB,
  expandGrafanaVariables,
  pipelineSelection,
  rateIntervalSeconds,
  variablesIn,
  zeroPerAlert,
} from "./promql.ts";

describe("selectors", () => {
  it("select the exporter's job and the chosen pipelines", () => {
    expect(EXPORTER_JOB).toBe("etl-metrics");
    expect(etlSelector("etl_records_total")).toBe('etl_records_total{job="etl-metrics", pipeline=~"$pipeline"}');
    expect(etlSelector("etl_exporter_ready", { pipeline: false })).toBe('etl_exporter_ready{job="etl-metrics"}');
    expect(etlSelector("x", { pipeline: false, extra: ['result!="parsed"'] })).toBe('x{job="etl-metrics", result!="parsed"}');
  });

  it("give one zero per alert name", () => {
    expect(zeroPerAlert(["A"])).toBe('label_replace(vector(0), "alertname", "A", "", "")');
    expect(zeroPerAlert(["A", "B"]).split(" or ")).toHaveLength(2);
    expect(() => zeroPerAlert([])).toThrow();
  });
});

describe("Grafana's variables", () => {
  it("are found in every form Grafana interpolates", () => {
    expect(variablesIn('a{p=~"$pipeline"}[${__rate_interval}] [[x]] ${ds:raw}')).toEqual(["pipeline", "__rate_interval", "x", "ds"]);
  });

  it("are replaced by their values", () => {
    const values = { pipeline: "(etl|orders)", __rate_interval: "4s", __range: "1h", datasource: "prometheus" };
    expect(expandGrafanaVariables('rate(x{pipeline=~"$pipeline"}[$__rate_interval])', values)).toBe('rate(x{pipeline=~"(etl|orders)"}[4s])');
    expect(expandGrafanaVariables("${__range} [[pipeline]] ${datasource}", values)).toBe("1h (etl|orders) prometheus");
  });

  it("refuse a variable without a value instead of leaving it in", () => {
    expect(() => expandGrafanaVariables("x[$__rate_intervall]", { __rate_interval: "4s" })).toThrow(/__rate_intervall/);
  });

  it("compute $__rate_interval as Grafana does", () => {
    expect(rateIntervalSeconds({ scrapeSeconds: 15, intervalSeconds: 2 })).toBe(60);
    expect(rateIntervalSeconds({ scrapeSeconds: 15, intervalSeconds: 60 })).toBe(75);
    expect(rateIntervalSeconds({ scrapeSeconds: 1, intervalSeconds: 1 })).toBe(4);
  });

  it("write a pipeline selection the way Grafana writes a multi-value regex", () => {
    expect(pipelineSelection(["etl"])).toBe("etl");
    expect(pipelineSelection(["etl", "orders"])).toBe("(etl|orders)");
    expect(() => pipelineSelection([])).toThrow();
    expect(() => pipelineSelection(["a.b"])).toThrow(/not a pipeline/);
  });
});
