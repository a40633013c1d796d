import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerInfo } from "../../lib/stack/stack_status.ts";
import { tempDir } from "../../tests/harness.ts";
import {
  capture,
  captureToFile,
  checkDocker,
  detectCompose,
  engineIsLocal,
  feedFromFile,
  fileDigest,
  findRepoRoot,
  lastLines,
  probePort,
  StackError,
  waitUntilReady,
} from "./compose.ts";

const NODE = process.execPath;
let dir = "";

/** A PATH of one folder holding shell scripts named after the commands they stand in for. */
async function fakePath(scripts: Record<string, string>): Promise<string> {
  const bin = join(dir, `bin-${Math.random().toString(36).slice(2)}`);
  await mkdir(bin);
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  }
  return bin;
}

beforeAll(() => {
  dir = tempDir("stack-compose-");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("running commands", () => {
  it("captures output and exit code, and says when a command is not installed", async () => {
    expect(await capture([NODE, "-e", "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)"], process.env)).toEqual({
      code: 3,
      stdout: "out",
      stderr: "err",
      spawnError: undefined,
    });
    expect(await capture(["no-such-command-here"], process.env)).toEqual({ code: null, stdout: "", stderr: "", spawnError: "ENOENT" });
  });

  it("kills a command that outlives its time", async () => {
    const started = Date.now();
    const result = await capture([NODE, "-e", "setTimeout(() => {}, 60000)"], process.env, 300);
    expect(result.code).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("streams standard output to a file with its size and SHA-256, and back into a command", async () => {
    const file = join(dir, "out.bin");
    const written = await captureToFile([NODE, "-e", "process.stdout.write(Buffer.alloc(200000, 7))"], process.env, file);
    expect(written).toEqual({ bytes: 200_000, sha256: createHash("sha256").update(Buffer.alloc(200_000, 7)).digest("hex") });
    expect(await fileDigest(file)).toEqual(written);
    expect(await fileDigest(join(dir, "missing"))).toBeUndefined();
    const copy = join(dir, "copy.bin");
    await feedFromFile([NODE, "-e", `process.stdin.pipe(require("fs").createWriteStream(${JSON.stringify(copy)}))`], process.env, file);
    expect(await fileDigest(copy)).toEqual(written);
  });

  it("leaves no file behind when the command fails, and quotes its error output", async () => {
    const file = join(dir, "failed.bin");
    await expect(captureToFile([NODE, "-e", "process.stdout.write('half'); console.error('tar: /volume: Cannot open'); process.exit(2)"], process.env, file))
      .rejects.toThrow(/failed \(exit 2\): tar: \/volume: Cannot open$/);
    expect(await fileDigest(file)).toBeUndefined();
    expect(await fileDigest(`${file}.partial`)).toBeUndefined();
    await expect(feedFromFile([NODE, "-e", "console.error('tar: bad'); process.exit(2)"], process.env, join(dir, "copy.bin")))
      .rejects.toThrow(/failed \(exit 2\): tar: bad$/);
  });

  it("keeps the last lines of an output", () => {
    expect(lastLines("a\n\nb\r\nc\n", 2)).toBe("b / c");
    expect(lastLines("\n", 2)).toBe("no output");
  });
});

describe("checkDocker", () => {
  const check = async (PATH: string, env: Record<string, string> = {}) => {
    try {
      await checkDocker({ PATH, ...env });
      return "ok";
    } catch (error) {
      expect(error).toBeInstanceOf(StackError);
      return (error as Error).message;
    }
  };

  it("passes when the engine answers", async () => {
    expect(await check(await fakePath({ docker: 'echo 27.3.1' }))).toBe("ok");
  });

  it("says docker is missing", async () => {
    expect(await check(await fakePath({}))).toBe(
      "docker not found: install Docker (https://docs.docker.com/engine/install/) and make sure `docker` is on the PATH",
    );
  });

  it("says the engine is not running, or not ours to use", async () => {
    const down = await fakePath({ docker: 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1' });
    expect(await check(down)).toBe(
      "the Docker engine is not running (the default socket): start it (e.g. sudo systemctl start docker, or Docker Desktop), or set DOCKER_HOST " +
        "(docker info: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)",
    );
    expect(await check(down, { DOCKER_HOST: "unix:///tmp/d.sock" })).toContain("not running (DOCKER_HOST=unix:///tmp/d.sock)");
    const denied = await fakePath({ docker: 'echo "permission denied while trying to connect to the Docker daemon socket" >&2; exit 1' });
    expect(await check(denied)).toBe(
      "no permission to use the Docker engine (the default socket): add your user to the docker group and log in again, or use rootless Docker " +
        "(docker info: permission denied while trying to connect to the Docker daemon socket)",
    );
  });
});

describe("detectCompose", () => {
  const V2_MISSING = 'if [ "$1" = compose ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi';

  it("takes the v2 plugin when it answers", async () => {
    const PATH = await fakePath({ docker: 'if [ "$1 $2" = "compose version" ]; then echo "Docker Compose version v2.29.7"; exit 0; fi; exit 1' });
    expect(await detectCompose(undefined, { PATH })).toEqual(["docker", "compose"]);
  });

  it("falls back to docker-compose", async () => {
    const PATH = await fakePath({ docker: V2_MISSING, "docker-compose": 'echo "docker-compose version 1.29.2, build unknown"' });
    expect(await detectCompose(undefined, { PATH })).toEqual(["docker-compose"]);
  });

  it("says neither answers", async () => {
    const PATH = await fakePath({ docker: V2_MISSING });
    await expect(detectCompose(undefined, { PATH })).rejects.toThrow(/^Docker Compose not found: neither `docker compose version`/);
  });

  it("takes ETL_COMPOSE, after checking it answers", async () => {
    const PATH = await fakePath({ docker: V2_MISSING, "docker-compose": "exit 0" });
    expect(await detectCompose("docker-compose", { PATH })).toEqual(["docker-compose"]);
    await expect(detectCompose("docker compose", { PATH })).rejects.toThrow(
      'ETL_COMPOSE is "docker compose", but `docker compose version` failed: docker: unknown command: docker compose',
    );
    await expect(detectCompose("podman-compose", { PATH })).rejects.toThrow('ETL_COMPOSE is "podman-compose", but podman-compose is not found');
  });
});

describe("places and ports", () => {
  it("finds the repository from the bundle or the source", async () => {
    const root = join(dir, "repo");
    await mkdir(join(root, "dist"), { recursive: true });
    await mkdir(join(root, "commands/stack"), { recursive: true });
    await writeFile(join(root, "package.json"), "{}");
    expect(findRepoRoot(pathToFileURL(join(root, "dist/stack.mjs")).href)).toBe(root);
    expect(findRepoRoot(pathToFileURL(join(root, "commands/stack/cli.ts")).href)).toBe(root);
    expect(() => findRepoRoot("file:///stack.mjs")).toThrow("cannot find the repository (no package.json above /stack.mjs)");
  });

  it("tells a free port from a taken one, and an address of another machine", async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as { port: number };
    expect(await probePort("127.0.0.1", port)).toBe("taken");
    expect(await probePort("0.0.0.0", port)).toBe("taken");
    await new Promise((done) => server.close(done));
    expect(await probePort("127.0.0.1", port)).toBe("free");
    expect(await probePort("192.0.2.1", port)).toBe("unavailable");
  });

  it("probes ports only when the engine is on this machine", () => {
    expect(engineIsLocal({})).toBe(true);
    expect(engineIsLocal({ DOCKER_HOST: "unix:///tmp/dk/docker.sock" })).toBe(true);
    expect(engineIsLocal({ DOCKER_HOST: "tcp://10.0.0.2:2376" })).toBe(false);
    expect(engineIsLocal({ DOCKER_HOST: "ssh://me@build" })).toBe(false);
  });
});

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
