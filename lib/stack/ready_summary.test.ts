import { describe, expect, it } from "vitest";
import { readySummary } from "./ready_summary.ts";

describe("readySummary", () => {
  it("prints the URLs started and who opens what with which file, never a password", () => {
    expect(readySummary({
      project: "etl-monitoring",
      urls: { prometheus: "http://127.0.0.1:9090/", grafana: "http://127.0.0.1:3000/" },
      bindAddress: "127.0.0.1",
      credentials: [
        { opens: "Grafana", user: "admin", passwordFile: "secrets/grafana_admin_password" },
        { opens: "Prometheus's HTTP API (queries)", user: "readonly", passwordFile: "secrets/prometheus_readonly_password" },
        { opens: "the simulator's `/metrics`", user: "metrics", passwordFile: "secrets/metrics_password" },
      ],
      reference: "secrets/CREDENTIALS.md",
    })).toEqual([
      "The stack is up (project etl-monitoring):",
      "  Grafana     http://127.0.0.1:3000/",
      "  Prometheus  http://127.0.0.1:9090/",
      "",
      "Credentials (user, the file holding the password, what it opens; passwords are never printed):",
      "  admin     secrets/grafana_admin_password        Grafana",
      "  readonly  secrets/prometheus_readonly_password  Prometheus's HTTP API (queries)",
      "  metrics   secrets/metrics_password              the simulator's /metrics",
      "Reference: secrets/CREDENTIALS.md",
    ]);
  });

  it("warns when the ports are exposed beyond this machine", () => {
    const lines = readySummary({ project: "p", urls: {}, bindAddress: "0.0.0.0", credentials: [], reference: "r" });
    expect(lines.at(-1)).toBe(
      "Published on 0.0.0.0: Alertmanager and the exporter ask for no password, and nothing is TLS; put a proxy with TLS in front.",
    );
  });

  it("says the stack is HTTPS only, and which CA to trust, in TLS mode", () => {
    const lines = readySummary({ project: "p", urls: { prometheus: "https://127.0.0.1:9090/" }, bindAddress: "0.0.0.0", credentials: [], reference: "r", caFile: "secrets/ca.crt" });
    expect(lines[0]).toBe("The stack is up (project p, HTTPS only: trust secrets/ca.crt (curl --cacert secrets/ca.crt)):");
    expect(lines[1]).toBe("  Prometheus  https://127.0.0.1:9090/");
    expect(lines.at(-1)).toBe(
      "Published on 0.0.0.0: Alertmanager and the exporter ask for no password; their certificates carry only the names in ETL_TLS_EXTRA_NAMES beyond localhost.",
    );
  });
});
