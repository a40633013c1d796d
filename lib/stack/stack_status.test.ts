import { describe, expect, it } from "vitest";
import type { ContainerInfo } from "./containers.ts";
import { parseAlerts, parseTargets, statusReport } from "./stack_status.ts";

const base: ContainerInfo = {
  id: "x",
  service: "grafana",
  project: "etl-monitoring",
  oneOff: false,
  status: "running",
  exitCode: 0,
  health: "healthy",
  lastHealthOutput: "",
  ports: {},
};

const TARGETS = JSON.stringify({
  status: "success",
  data: {
    activeTargets: [
      { labels: { job: "prometheus", instance: "localhost:9090" }, scrapeUrl: "http://localhost:9090/metrics", health: "up", lastError: "" },
      {
        labels: { job: "etl-metrics", instance: "etl-metrics:8083" },
        health: "down",
        lastError: 'Get "http://etl-metrics:8083/metrics": dial tcp: lookup etl-metrics: no such host',
      },
      { labels: { job: "alertmanager", instance: "alertmanager:9093" }, health: "up", lastError: "" },
    ],
    droppedTargets: [],
  },
});

const ALERTS = JSON.stringify({
  status: "success",
  data: {
    alerts: [
      { labels: { alertname: "EtlMetricsEndpointDown", job: "etl-metrics", severity: "critical" }, state: "firing", activeAt: "2026-11-24T01:20:57Z", value: "1e+00" },
      { labels: { alertname: "EtlLowThroughput", pipeline: "orders", severity: "warning" }, state: "pending", activeAt: "2026-11-24T01:22:00Z", value: "0" },
    ],
  },
});

describe("Prometheus's answers", () => {
  it("reads the targets, sorted by job", () => {
    expect(parseTargets(TARGETS)).toEqual([
      { job: "alertmanager", instance: "alertmanager:9093", health: "up", lastError: "" },
      { job: "etl-metrics", instance: "etl-metrics:8083", health: "down", lastError: 'Get "http://etl-metrics:8083/metrics": dial tcp: lookup etl-metrics: no such host' },
      { job: "prometheus", instance: "localhost:9090", health: "up", lastError: "" },
    ]);
    expect(() => parseTargets("<html>")).toThrow("not an answer of /api/v1/targets");
  });

  it("reads the alerts, sorted by name", () => {
    expect(parseAlerts(ALERTS)).toEqual([
      { name: "EtlLowThroughput", state: "pending", since: "2026-11-24T01:22:00Z", labels: { pipeline: "orders", severity: "warning" } },
      { name: "EtlMetricsEndpointDown", state: "firing", since: "2026-11-24T01:20:57Z", labels: { job: "etl-metrics", severity: "critical" } },
    ]);
    expect(() => parseAlerts('{"status":"error"}')).toThrow("not an answer of /api/v1/alerts");
  });
});

describe("statusReport", () => {
  const healthy = new Map<string, ContainerInfo>([
    ["etl-secrets-init", { ...base, service: "etl-secrets-init", status: "exited", health: "none" }],
    ["prometheus", { ...base, service: "prometheus" }],
  ]);
  const up = parseTargets(TARGETS).map((t) => ({ ...t, health: "up", lastError: "" }));
  const url = "http://127.0.0.1:9090";

  it("says all healthy, and exit 0, when every created service is ready, every target up and nothing fires", () => {
    const report = statusReport({
      project: "etl-monitoring",
      services: ["etl-secrets-init", "prometheus", "grafana"],
      containers: healthy,
      prometheus: { url, targets: { ok: true, value: up }, alerts: { ok: true, value: parseAlerts(ALERTS).filter((a) => a.state === "pending") } },
    });
    expect(report).toEqual({
      exitCode: 0,
      lines: [
        "Services (project etl-monitoring):",
        "  etl-secrets-init  exited 0 (done)   ok",
        "  prometheus        running, healthy  ok",
        "  grafana           not created       -",
        "Prometheus targets (http://127.0.0.1:9090):",
        "  alertmanager  alertmanager:9093  up",
        "  etl-metrics   etl-metrics:8083   up",
        "  prometheus    localhost:9090     up",
        "Alerts firing: none",
        "Alerts pending (1):",
        "  EtlLowThroughput  pipeline=orders severity=warning  since 2026-11-24T01:22:00Z",
        "All healthy.",
      ],
    });
  });

  it("says what is wrong, and exit 1, for an unhealthy service, a target down or an alert firing", () => {
    const containers = new Map(healthy);
    containers.set("prometheus", { ...base, service: "prometheus", health: "unhealthy", lastHealthOutput: "wget: HTTP/1.1 503" });
    const report = statusReport({
      project: "etl-monitoring",
      services: ["etl-secrets-init", "prometheus"],
      containers,
      prometheus: { url, targets: { ok: true, value: parseTargets(TARGETS) }, alerts: { ok: true, value: parseAlerts(ALERTS) } },
    });
    expect(report.exitCode).toBe(1);
    expect(report.lines).toEqual([
      "Services (project etl-monitoring):",
      "  etl-secrets-init  exited 0 (done)     ok",
      "  prometheus        running, unhealthy  NOT OK  last check: wget: HTTP/1.1 503",
      "Prometheus targets (http://127.0.0.1:9090):",
      "  alertmanager  alertmanager:9093  up",
      '  etl-metrics   etl-metrics:8083   down  (Get "http://etl-metrics:8083/metrics": dial tcp: lookup etl-metrics: no such host)',
      "  prometheus    localhost:9090     up",
      "Alerts firing (1):",
      "  EtlMetricsEndpointDown  job=etl-metrics severity=critical  since 2026-11-24T01:20:57Z",
      "Alerts pending (1):",
      "  EtlLowThroughput  pipeline=orders severity=warning  since 2026-11-24T01:22:00Z",
      "Not healthy: prometheus running, unhealthy; target etl-metrics etl-metrics:8083 down; 1 alert firing.",
    ]);
  });

  it("counts Prometheus out of reach, and a stack never created, as not healthy", () => {
    const report = statusReport({
      project: "etl-monitoring",
      services: ["prometheus"],
      containers: new Map(),
      prometheus: { url, targets: { ok: false, error: "Prometheus is not running" }, alerts: { ok: false, error: "Prometheus is not running" } },
    });
    expect(report).toEqual({
      exitCode: 1,
      lines: [
        "Services (project etl-monitoring):",
        "  prometheus  not created  -",
        "Prometheus targets (http://127.0.0.1:9090):",
        "  Prometheus is not running",
        "Alerts: Prometheus is not running",
        "Not healthy: the stack is not created (npm run stack -- up); Prometheus's targets unknown; alerts unknown.",
      ],
    });
  });
});
