import { describe, expect, it } from "vitest";
import { STACK_SERVICES } from "./compose_project.ts";
import { portOf, PUBLISHED_PORTS } from "./published_ports.ts";

describe("the published ports", () => {
  it("has every published port of the contract, with its variable and default", () => {
    expect(PUBLISHED_PORTS.map((p) => [p.service, p.env, p.defaultPort, p.containerPort])).toEqual([
      ["grafana", "ETL_GRAFANA_PORT", 3000, 3000],
      ["prometheus", "ETL_PROMETHEUS_PORT", 9090, 9090],
      ["alertmanager", "ETL_ALERTMANAGER_PORT", 9093, 9093],
      ["etl-metrics", "ETL_EXPORTER_PORT", 8083, 8083],
      ["etl-simulator", "ETL_SIMULATOR_PORT", 8000, 8000],
      ["etl-alert-receiver", "ETL_RECEIVER_PORT", 9095, 9095],
    ]);
    for (const p of PUBLISHED_PORTS) expect(STACK_SERVICES).toContain(p.service);
    expect(portOf("prometheus")?.key).toBe("prometheusPort");
    expect(portOf("etl-secrets-init")).toBeUndefined();
  });

});
