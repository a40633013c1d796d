/**
 * What the management CLI checks about the machine before it acts: that
 * Docker is there and its engine answers, which Compose answers, npm's
 * registry for the image builds, the repository root, whether a host port
 * is free, and whether the engine runs on this machine.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseCompose, npmRegistryFrom, versionArgv } from "../../lib/stack/compose_command.ts";
import { capture, type Env, lastLines, StackError } from "./run_command.ts";

/**
 * Checks that the `docker` command exists and its engine answers; throws a
 * {@linkcode StackError} saying which is missing and what to do.
 *
 * @example
 * ```ts
 * await checkDocker(process.env); // throws "docker not found: install Docker …" on a machine without it
 * ```
 */
export async function checkDocker(env: Env): Promise<void> {
  const info = await capture(["docker", "info", "--format", "{{.ServerVersion}}"], env, 30_000);
  if (info.spawnError === "ENOENT") {
    throw new StackError("docker not found: install Docker (https://docs.docker.com/engine/install/) and make sure `docker` is on the PATH");
  }
  if (info.spawnError !== undefined) throw new StackError(`cannot run docker: ${info.spawnError}`);
  const where = env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : "the default socket";
  if (info.code === null) throw new StackError(`the Docker engine does not answer (docker info timed out after 30 s, ${where})`);
  const output = `${info.stderr}\n${info.stdout}`;
  if (info.code !== 0 || /error|cannot connect/i.test(info.stderr) || info.stdout.trim() === "") {
    if (/permission denied/i.test(output)) {
      throw new StackError(
        `no permission to use the Docker engine (${where}): add your user to the docker group and log in again, or use rootless Docker (docker info: ${lastLines(output, 1)})`,
      );
    }
    throw new StackError(
      `the Docker engine is not running (${where}): start it (e.g. sudo systemctl start docker, or Docker Desktop), or set DOCKER_HOST (docker info: ${lastLines(output, 1)})`,
    );
  }
}

/**
 * The Compose command to use: `forced` (ETL_COMPOSE, or the `setting`
 * it was given as) as given (checked with `version`), else `docker compose` when `docker compose version`
 * succeeds, else `docker-compose`; throws a {@linkcode StackError} when
 * none answers.
 *
 * @example
 * ```ts
 * await detectCompose(undefined, process.env); // ["docker-compose"] where only Compose v1 is installed
 * ```
 */
export async function detectCompose(forced: string | undefined, env: Env, setting = "ETL_COMPOSE"): Promise<string[]> {
  const answered = new Map<string, boolean>();
  for (const command of forced ? [] : [["docker", "compose"], ["docker-compose"]]) {
    const result = await capture(versionArgv(command), env, 30_000);
    answered.set(command.join(" "), result.code === 0);
    if (result.code === 0) break;
  }
  const choice = chooseCompose(forced, (command) => answered.get(command.join(" ")) ?? false);
  if (!choice.ok) throw new StackError(choice.message);
  if (forced) {
    const result = await capture(versionArgv(choice.command), env, 30_000);
    // A command that does not exist is the setting's fault: exit 2, as for any bad setting.
    if (result.spawnError === "ENOENT") throw new StackError(`${setting} is ${JSON.stringify(forced)}, but ${choice.command[0]} is not found`, 2);
    if (result.code !== 0) {
      throw new StackError(`${setting} is ${JSON.stringify(forced)}, but \`${versionArgv(choice.command).join(" ")}\` failed: ${lastLines(result.stderr || result.stdout, 2)}`);
    }
  }
  return choice.command;
}

/**
 * `npm config get registry` of this machine, or undefined when npm does not answer.
 *
 * @example
 * ```ts
 * await npmRegistry(process.env); // the registry npm is configured with, e.g. a mirror
 * ```
 */
export async function npmRegistry(env: Env): Promise<string | undefined> {
  const result = await capture(["npm", "config", "get", "registry"], env, 30_000);
  if (result.code !== 0) return undefined;
  return npmRegistryFrom(result.stdout);
}

/**
 * The repository root: the first folder holding a `package.json`, from
 * the folder of `moduleUrl` up (dist/stack.mjs and commands/stack/cli.ts
 * both lead to it). Throws when there is none.
 *
 * @example
 * ```ts
 * findRepoRoot(import.meta.url); // "/home/me/etl-monitoring"
 * ```
 */
export function findRepoRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new StackError(`cannot find the repository (no package.json above ${fileURLToPath(moduleUrl)})`);
    dir = parent;
  }
}

/**
 * Whether something already listens on `host:port`: `free`, `taken`, or
 * `unavailable` when `host` is not an address of this machine.
 *
 * @example
 * ```ts
 * await probePort("127.0.0.1", 3000); // "free"
 * ```
 */
export function probePort(host: string, port: number): Promise<"free" | "taken" | "unavailable"> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      // EACCES (a port below 1024 for a user): the engine binds as root, so it may well work.
      done(error.code === "EADDRINUSE" ? "taken" : error.code === "EADDRNOTAVAIL" ? "unavailable" : "free");
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => done("free")));
  });
}

/**
 * Tells whether the engine runs on this machine, so that its ports are ours
 * to probe: no DOCKER_HOST, or a unix socket.
 *
 * @example
 * ```ts
 * engineIsLocal({ DOCKER_HOST: "ssh://build-host" }); // false
 * ```
 */
export function engineIsLocal(env: Env): boolean {
  const host = env.DOCKER_HOST ?? "";
  return host === "" || host.startsWith("unix://") || host.startsWith("npipe://");
}
