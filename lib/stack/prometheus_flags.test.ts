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

  it("runs an agent with its WAL and no TSDB flags, and a center that accepts remote write", () => {
    const agent = prometheusFlags({ configFile: "c", webConfigFile: "w", dataDir: "d", listenAddress: "a:1", mode: "agent" });
    expect(agent).toContain("--enable-feature=agent");
    expect(agent).toContain("--storage.agent.path=d");
    expect(agent.some((f) => f.startsWith("--storage.tsdb."))).toBe(false);
    const center = prometheusFlags({ configFile: "c", webConfigFile: "w", dataDir: "d", listenAddress: "a:1", remoteWriteReceiver: true });
    expect(center).toContain("--web.enable-remote-write-receiver");
    expect(center).toContain("--storage.tsdb.path=d");
  });

  it("joins Alertmanagers in one gossip cluster when asked", () => {
    const flags = alertmanagerFlags({ configFile: "c", dataDir: "d", listenAddress: "127.0.0.1:9093", cluster: { listenAddress: "127.0.0.1:9094", peers: ["127.0.0.1:9096"] } });
    expect(flags).toContain("--cluster.listen-address=127.0.0.1:9094");
    expect(flags).toContain("--cluster.advertise-address=127.0.0.1:9094");
    expect(flags).toContain("--cluster.peer=127.0.0.1:9096");
    expect(flags).not.toContain("--cluster.listen-address=");
  });
});
