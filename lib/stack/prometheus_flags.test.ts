import { describe, expect, it } from "vitest";
import { alertmanagerFlags, prometheusFlags, RETENTION } from "./prometheus_flags.ts";

describe("prometheusFlags", () => {
  it("sets retention explicitly and never turns on the lifecycle or admin APIs", () => {
    const flags = prometheusFlags({ configFile: "c", webConfigFile: "w", dataDir: "d", listenAddress: "127.0.0.1:9090" });
    expect(flags).toContain(`--storage.tsdb.retention.time=${RETENTION.time}`);
    expect(flags).toContain(`--storage.tsdb.retention.size=${RETENTION.size}`);
    expect(flags).toContain("--web.config.file=w");
    expect(flags.some((f) => f.includes("enable-lifecycle") || f.includes("enable-admin-api"))).toBe(false);
  });

  it("turns Alertmanager's gossip off", () => {
    expect(alertmanagerFlags({ configFile: "c", dataDir: "d", listenAddress: "127.0.0.1:9093" })).toContain("--cluster.listen-address=");
  });
});
