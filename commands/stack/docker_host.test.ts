import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../tests/harness.ts";
import { checkDocker, detectCompose, engineIsLocal, findRepoRoot, probePort } from "./docker_host.ts";
import { StackError } from "./run_command.ts";

let dir = "";

beforeAll(() => {
  dir = tempDir("stack-host-");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
    // Named as it was given, and a bad setting's exit code.
    await expect(detectCompose("nope", { PATH }, "--compose")).rejects.toMatchObject({ message: '--compose is "nope", but nope is not found', code: 2 });
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

