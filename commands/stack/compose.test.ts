import { describe, expect, it } from "vitest";
import type { ContainerInfo } from "../../lib/stack/containers.ts";
import { waitUntilReady } from "./compose.ts";

describe("waitUntilReady", () => {
  const c = (service: string, state: Partial<ContainerInfo>): ContainerInfo => ({
    id: service,
    service,
    project: "p",
    oneOff: false,
    status: "running",
    exitCode: 0,
    health: "starting",
    lastHealthOutput: "",
    ports: {},
    ...state,
  });
  /** A stack whose containers go through `looks` one poll at a time (the last one stays). */
  const fakeStack = (looks: ContainerInfo[][]) => {
    let i = 0;
    return {
      containers: async () => new Map((looks[Math.min(i++, looks.length - 1)] ?? []).map((x) => [x.service, x])),
      logTail: async (service: string, lines: number) => `${service} log line 1\n${service} log line ${lines}`,
    };
  };
  const io = (tty = false) => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), tty }, out, err };
  };

  it("prints one line per change until every service is ready", async () => {
    const stack = fakeStack([
      [c("etl-secrets-init", { status: "running", health: "none" })],
      [c("etl-secrets-init", { status: "exited", health: "none" }), c("prometheus", {})],
      [c("etl-secrets-init", { status: "exited", health: "none" }), c("prometheus", {})],
      [c("etl-secrets-init", { status: "exited", health: "none" }), c("prometheus", { health: "healthy" })],
    ]);
    const { io: progress, out, err } = io();
    await waitUntilReady(stack, ["etl-secrets-init", "prometheus"], progress, { timeoutSeconds: 30, pollMs: 1 });
    expect(out.join("").replace(/^ +\d+ s {2}/gm, "")).toBe([
      "etl-secrets-init: running (no healthcheck)",
      "prometheus: no container",
      "etl-secrets-init: exited 0 (done)",
      "prometheus: running, starting",
      "prometheus: running, healthy",
      "",
    ].join("\n"));
    expect(err).toEqual([]);
  });

  it("ticks on a terminal and clears the line at the end", async () => {
    const stack = fakeStack([[c("grafana", {})], [c("grafana", { health: "healthy" })]]);
    const { io: progress, out } = io(true);
    await waitUntilReady(stack, ["grafana"], progress, { timeoutSeconds: 30, pollMs: 1 });
    expect(out).toEqual([
      "   0 s  grafana: running, starting\n",
      "\r\x1b[Kwaiting 0 s: 0/1 ready; grafana running, starting",
      "\r\x1b[K",
      "   0 s  grafana: running, healthy\n",
    ]);
  });

  it("cuts the ticking line to the terminal's width", async () => {
    const stack = fakeStack([[c("etl-alert-receiver", {})], [c("etl-alert-receiver", { health: "healthy" })]]);
    const out: string[] = [];
    await waitUntilReady(stack, ["etl-alert-receiver"], { out: (t) => void out.push(t), err: () => {}, tty: true, columns: 31 }, { timeoutSeconds: 30, pollMs: 1 });
    expect(out[1]).toBe("\r\x1b[Kwaiting 0 s: 0/1 ready; etl-al");
  });

  it("gives up at the timeout, naming the services not ready, after their logs", async () => {
    const stack = fakeStack([[c("grafana", { health: "unhealthy" }), c("prometheus", { health: "healthy" })]]);
    const { io: progress, err } = io();
    await expect(waitUntilReady(stack, ["prometheus", "grafana"], progress, { timeoutSeconds: 0.05, pollMs: 10, logLines: 5 }))
      .rejects.toThrow("timed out after 0.05 s: grafana is not healthy (running, unhealthy)");
    expect(err).toEqual(["--- last 5 lines of grafana's log ---\ngrafana log line 1\ngrafana log line 5\n"]);
  });

  it("stops at once when a one-shot service failed", async () => {
    const stack = fakeStack([[c("etl-secrets-init", { status: "exited", exitCode: 1, health: "none" })]]);
    const { io: progress } = io();
    await expect(waitUntilReady(stack, ["etl-secrets-init"], progress, { timeoutSeconds: 300, pollMs: 10 }))
      .rejects.toThrow("etl-secrets-init is down (exited 1)");
  });

  it("looks once after a failed compose up, and names it", async () => {
    const stack = fakeStack([[c("alertmanager", { health: "unhealthy" })]]);
    const { io: progress } = io();
    await expect(waitUntilReady(stack, ["alertmanager"], progress, { timeoutSeconds: 0, onlyLook: "compose up failed (exit 1)" }))
      .rejects.toThrow("compose up failed (exit 1): alertmanager is not healthy (running, unhealthy)");
  });
});
