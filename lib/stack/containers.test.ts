import { describe, expect, it } from "vitest";
import {
  type ContainerInfo,
  containersByService,
  describeContainer,
  notReadyMessage,
  parseInspect,
  progressLine,
  publishedPort,
  type Readiness,
  readiness,
  stateChanges,
} from "./containers.ts";

// Trimmed from `docker inspect` of a stack brought up by Compose v1.29.
const INSPECT = JSON.stringify([
  {
    Id: "4f2a9c1e7b3d",
    Name: "/etl-monitoring_prometheus_1",
    State: {
      Status: "running",
      Running: true,
      ExitCode: 0,
      Health: { Status: "starting", FailingStreak: 1, Log: [{ ExitCode: 1, Output: "wget: server returned error: HTTP/1.1 503\n" }] },
    },
    Config: { Labels: { "com.docker.compose.project": "etl-monitoring", "com.docker.compose.service": "prometheus", "com.docker.compose.oneoff": "False" } },
    NetworkSettings: { Ports: { "9090/tcp": [{ HostIp: "127.0.0.1", HostPort: "19090" }] } },
  },
  {
    Id: "9b8c7d6e5f4a",
    Name: "/etl-monitoring-etl-secrets-init-1",
    State: { Status: "exited", Running: false, ExitCode: 0 },
    Config: { Labels: { "com.docker.compose.project": "etl-monitoring", "com.docker.compose.service": "etl-secrets-init", "com.docker.compose.oneoff": "False" } },
    NetworkSettings: { Ports: {} },
  },
  {
    Id: "1a2b3c4d5e6f",
    Name: "/etl-monitoring_prometheus_run_1",
    State: { Status: "exited", Running: false, ExitCode: 2 },
    Config: { Labels: { "com.docker.compose.project": "etl-monitoring", "com.docker.compose.service": "prometheus", "com.docker.compose.oneoff": "True" } },
    NetworkSettings: { Ports: { "9090/tcp": null } },
  },
]);

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

describe("parseInspect and containersByService", () => {
  it("reads each container by its Compose labels, not its name", () => {
    expect(parseInspect(INSPECT)).toEqual([
      {
        id: "4f2a9c1e7b3d",
        service: "prometheus",
        project: "etl-monitoring",
        oneOff: false,
        status: "running",
        exitCode: 0,
        health: "starting",
        lastHealthOutput: "wget: server returned error: HTTP/1.1 503",
        ports: { "9090/tcp": [19090] },
      },
      {
        id: "9b8c7d6e5f4a",
        service: "etl-secrets-init",
        project: "etl-monitoring",
        oneOff: false,
        status: "exited",
        exitCode: 0,
        health: "none",
        lastHealthOutput: "",
        ports: {},
      },
      {
        id: "1a2b3c4d5e6f",
        service: "prometheus",
        project: "etl-monitoring",
        oneOff: true,
        status: "exited",
        exitCode: 2,
        health: "none",
        lastHealthOutput: "",
        ports: {},
      },
    ]);
  });

  it("leaves out `compose run` containers, and prefers a running one", () => {
    const byService = containersByService(parseInspect(INSPECT));
    expect([...byService.keys()]).toEqual(["prometheus", "etl-secrets-init"]);
    expect(byService.get("prometheus")?.id).toBe("4f2a9c1e7b3d");
    const two = containersByService([{ ...base, id: "old", status: "exited" }, { ...base, id: "new" }, { ...base, id: "newer", status: "exited" }]);
    expect(two.get("grafana")?.id).toBe("new");
  });

  it("refuses what docker inspect would not print", () => {
    expect(() => parseInspect("not json")).toThrow("docker inspect printed something that is not JSON");
    expect(() => parseInspect('[{"Id":"a"}]')).toThrow("docker inspect printed an unexpected shape: 0.State");
  });

  it("finds the host port of a container port", () => {
    const prometheus = containersByService(parseInspect(INSPECT)).get("prometheus");
    expect(publishedPort(prometheus, 9090)).toBe(19090);
    expect(publishedPort(prometheus, 9093)).toBeUndefined();
    expect(publishedPort(undefined, 9090)).toBeUndefined();
  });
});

describe("readiness", () => {
  it.each([
    ["grafana", { status: "running", health: "healthy" }, "ready", "running, healthy"],
    ["grafana", { status: "running", health: "none" }, "ready", "running (no healthcheck)"],
    ["grafana", { status: "running", health: "starting" }, "waiting", "running, starting"],
    ["grafana", { status: "running", health: "unhealthy" }, "waiting", "running, unhealthy"],
    ["grafana", { status: "restarting" }, "waiting", "restarting"],
    ["grafana", { status: "created" }, "waiting", "created"],
    ["grafana", { status: "exited", exitCode: 1 }, "failed", "exited 1"],
    ["grafana", { status: "dead", exitCode: 137 }, "failed", "dead 137"],
    ["etl-secrets-init", { status: "exited", exitCode: 0, health: "none" }, "ready", "exited 0 (done)"],
    ["etl-secrets-init", { status: "exited", exitCode: 3, health: "none" }, "failed", "exited 3"],
    ["etl-secrets-init", { status: "running", health: "none" }, "waiting", "running (no healthcheck)"],
  ] as const)("%s %o is %s (%s)", (service, state, expected, text) => {
    expect(readiness(service, { ...base, ...state })).toEqual({ state: expected, text });
  });

  it("waits for a container not created yet", () => {
    expect(readiness("grafana", undefined)).toEqual({ state: "waiting", text: "no container" });
    expect(describeContainer(undefined)).toBe("no container");
  });
});

describe("progress while waiting", () => {
  const states = new Map<string, Readiness>([
    ["etl-secrets-init", { state: "ready", text: "exited 0 (done)" }],
    ["prometheus", { state: "waiting", text: "running, starting" }],
    ["grafana", { state: "waiting", text: "no container" }],
  ]);

  it("prints a line for each service whose state changed", () => {
    const before = new Map([["etl-secrets-init", "exited 0 (done)"], ["prometheus", "running, starting"]]);
    const now = new Map([["etl-secrets-init", "exited 0 (done)"], ["prometheus", "running, healthy"], ["grafana", "running, starting"]]);
    expect(stateChanges(before, now, 12.4)).toEqual(["  12 s  prometheus: running, healthy", "  12 s  grafana: running, starting"]);
    expect(stateChanges(now, now, 13)).toEqual([]);
  });

  it("sums it up on one ticking line", () => {
    expect(progressLine(states, 7.6)).toBe("waiting 8 s: 1/3 ready; prometheus running, starting, grafana no container");
    expect(progressLine(new Map([["a", { state: "ready", text: "running, healthy" }]]), 1)).toBe("waiting 1 s: 1/1 ready");
  });

  it("names the services not ready when it ends", () => {
    expect(notReadyMessage(states, { timedOutAfter: 300 })).toBe(
      "timed out after 300 s: prometheus is not healthy (running, starting), grafana is not healthy (no container)",
    );
    expect(notReadyMessage(new Map([["etl-secrets-init", { state: "failed", text: "exited 1" }]]), { failed: true })).toBe(
      "etl-secrets-init is down (exited 1)",
    );
  });
});
