import { describe, expect, it } from "vitest";
import { connectHost, repeatedPorts, stackUrls, takenPorts } from "./port_checks.ts";
import { defaultStackSettings } from "./stack_settings.ts";

describe("URLs and hosts", () => {
  it("connects to loopback when the ports are published everywhere", () => {
    expect(connectHost("127.0.0.1")).toBe("127.0.0.1");
    expect(connectHost("0.0.0.0")).toBe("127.0.0.1");
    expect(connectHost("10.1.2.3")).toBe("10.1.2.3");
    expect(connectHost("::")).toBe("[::1]");
    expect(connectHost("::1")).toBe("[::1]");
  });

  it("gives each published service its URL", () => {
    expect(stackUrls({ ...defaultStackSettings(), prometheusPort: 19090, bindAddress: "0.0.0.0" })).toEqual({
      grafana: "http://127.0.0.1:3000/",
      prometheus: "http://127.0.0.1:19090/",
      alertmanager: "http://127.0.0.1:9093/",
      "etl-metrics": "http://127.0.0.1:8083/metrics",
      "etl-simulator": "http://127.0.0.1:8000/metrics",
      "etl-alert-receiver": "http://127.0.0.1:9095/notifications",
    });
    expect(stackUrls({ ...defaultStackSettings(), tls: true })).toMatchObject({
      prometheus: "https://127.0.0.1:9090/",
      "etl-metrics": "https://127.0.0.1:8083/metrics",
    });
  });
});

describe("port checks", () => {
  it("finds a port given to two services", () => {
    expect(repeatedPorts(defaultStackSettings())).toEqual([]);
    expect(repeatedPorts({ ...defaultStackSettings(), exporterPort: 3000, receiverPort: 3000 })).toEqual([
      "ETL_GRAFANA_PORT and ETL_EXPORTER_PORT are both 3000: give each service its own port",
      "ETL_GRAFANA_PORT and ETL_RECEIVER_PORT are both 3000: give each service its own port",
      "ETL_EXPORTER_PORT and ETL_RECEIVER_PORT are both 3000: give each service its own port",
    ]);
  });

  it("checks only the ports given, naming each as the caller says", () => {
    expect(repeatedPorts({ exporterPort: 9000, prometheusPort: 9000, simulatorPort: 8000 }, (key) => `--${key}`)).toEqual([
      "--prometheusPort and --exporterPort are both 9000: give each service its own port",
    ]);
    expect(takenPorts([{ key: "prometheusPort", port: 9090, free: false, heldByStack: false }], "127.0.0.1", () => "--prometheus-port")).toEqual([
      "port 9090 on 127.0.0.1 (Prometheus) is taken by another program: set --prometheus-port to a free port",
    ]);
  });

  it("names a port taken by another program and the variable that moves it, not one this stack holds", () => {
    expect(takenPorts([
      { key: "grafanaPort", port: 3000, free: false, heldByStack: true },
      { key: "prometheusPort", port: 9090, free: false, heldByStack: false },
      { key: "exporterPort", port: 8083, free: true, heldByStack: false },
    ], "0.0.0.0")).toEqual([
      "port 9090 on 0.0.0.0 (Prometheus) is taken by another program: set ETL_PROMETHEUS_PORT (or --prometheus-port) to a free port",
    ]);
  });
});

