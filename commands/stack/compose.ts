/**
 * The I/O of the management CLI: running `docker` and Compose (output
 * captured, streamed to the terminal, or piped to and from a file), the
 * checks that Docker is there and which Compose answers, the repository
 * root, whether a host port is free, and the wait until services are ready.
 * The command lines themselves are built in `lib/stack/`.
 *
 * @example
 * ```ts
 * import { ComposeStack, checkDocker, detectCompose } from "./compose.ts";
 * await checkDocker(process.env);
 * const command = await detectCompose(undefined, process.env);
 * const stack = new ComposeStack({ command, project: "etl-monitoring", file: "/repo/deploy/compose/docker-compose.yml" }, process.env);
 * const containers = await stack.containers();
 * ```
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  chooseCompose,
  type ComposeTarget,
  composeArgv,
  configArgs,
  logsArgs,
  npmRegistryFrom,
  psArgs,
  readComposeConfig,
  versionArgv,
} from "../../lib/stack/compose_command.ts";
import { ONE_SHOT_SERVICES } from "../../lib/stack/compose_project.ts";
import {
  type ContainerInfo,
  containersByService,
  notReadyMessage,
  parseInspect,
  progressLine,
  type Readiness,
  readiness,
  stateChanges,
} from "../../lib/stack/stack_status.ts";

/**
 * A failure of the CLI, with its message for the user and the exit code.
 *
 * @example
 * ```ts
 * throw new StackError("docker not found: install Docker", 1);
 * ```
 */
export class StackError extends Error {
  override name = "StackError";
  constructor(message: string, readonly code: 1 | 2 = 1) {
    super(message);
  }
}

/**
 * The environment handed to child processes.
 *
 * @example
 * ```ts
 * const env: Env = { PATH: "/usr/bin", DOCKER_HOST: "unix:///tmp/d.sock" };
 * ```
 */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * What a captured command did: its exit code (null when it could not
 * start, or was killed), output, and the spawn error code (ENOENT: not installed).
 *
 * @example
 * ```ts
 * const result: CaptureResult = { code: 0, stdout: "1.29.2\n", stderr: "", spawnError: undefined };
 * ```
 */
export interface CaptureResult {
  code: number | null;
  stdout: string;
  stderr: string;
  spawnError: string | undefined;
}

function cleanEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Runs `argv` and collects its output; never throws. A command still
 * running after `timeoutMs` is killed (code null).
 *
 * @example
 * ```ts
 * const { code, stdout } = await capture(["docker", "info", "--format", "{{.ServerVersion}}"], process.env);
 * ```
 */
export function capture(argv: readonly string[], env: Env, timeoutMs = 120_000): Promise<CaptureResult> {
  return new Promise((done) => {
    const [command, ...args] = argv;
    let stdout = "";
    let stderr = "";
    let finished = false;
    const child = spawn(command!, args, { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const finish = (code: number | null, spawnError?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done({ code, stdout, stderr, spawnError });
    };
    child.on("error", (error: NodeJS.ErrnoException) => finish(null, error.code ?? error.message));
    child.on("close", (code) => finish(code));
  });
}

/**
 * Runs `argv` with the terminal as its input and output (build progress,
 * `logs --follow`) and resolves to its exit code. Throws a
 * {@linkcode StackError} when it cannot start.
 *
 * @example
 * ```ts
 * const code = await inherit(["docker-compose", "-p", "etl-monitoring", "logs", "--follow"], process.env);
 * ```
 */
export function inherit(argv: readonly string[], env: Env): Promise<number> {
  return new Promise((done, fail) => {
    const [command, ...args] = argv;
    const child = spawn(command!, args, { env: cleanEnv(env), stdio: "inherit" });
    child.on("error", (error: NodeJS.ErrnoException) => fail(new StackError(`cannot run ${command}: ${error.code ?? error.message}`)));
    // Killed by a signal (Ctrl-C on `logs --follow`): 128 + its number, as a shell says.
    child.on("close", (code, signal) => done(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1)));
  });
}

/**
 * Runs `argv` with its standard output written to `file` (through
 * `file.partial`, renamed when the command succeeds) and returns the
 * bytes written and their SHA-256. Throws a {@linkcode StackError} with the
 * command's error output when it fails; no partial file is left.
 *
 * @example
 * ```ts
 * const { bytes, sha256 } = await captureToFile(["docker", "run", "--rm", "img", "tar", "-czf", "-", "."], process.env, "/backups/x.tar.gz");
 * ```
 */
export async function captureToFile(argv: readonly string[], env: Env, file: string): Promise<{ bytes: number; sha256: string }> {
  const partial = `${file}.partial`;
  const hash = createHash("sha256");
  let bytes = 0;
  let stderr = "";
  const [command, ...args] = argv;
  const result = await new Promise<{ code: number | null; error?: string }>((done) => {
    const out = createWriteStream(partial, { mode: 0o600 });
    const child = spawn(command!, args, { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    child.stdout!.pipe(out);
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    let code: number | null = null;
    let pending = 2;
    const settle = () => --pending === 0 && done({ code });
    child.on("error", (error: NodeJS.ErrnoException) => {
      out.destroy();
      done({ code: null, error: error.code ?? error.message });
    });
    child.on("close", (c) => {
      code = c;
      settle();
    });
    out.on("close", settle);
    out.on("error", (error) => done({ code: null, error: error.message }));
  });
  if (result.code !== 0) {
    await rm(partial, { force: true });
    throw new StackError(`${argv.slice(0, 2).join(" ")} failed${result.error ? ` (${result.error})` : ` (exit ${result.code})`}: ${lastLines(stderr, 5)}`);
  }
  await rename(partial, file);
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * Runs `argv` with `file` as its standard input; throws a
 * {@linkcode StackError} with the command's error output when it fails.
 *
 * @example
 * ```ts
 * await feedFromFile(["docker", "run", "--rm", "-i", "img", "tar", "-xzf", "-"], process.env, "/backups/x.tar.gz");
 * ```
 */
export async function feedFromFile(argv: readonly string[], env: Env, file: string): Promise<void> {
  const [command, ...args] = argv;
  let stderr = "";
  const result = await new Promise<{ code: number | null; error?: string }>((done) => {
    const child = spawn(command!, args, { env: cleanEnv(env), stdio: ["pipe", "ignore", "pipe"] });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    // The reader may stop early (tar failed): its closed pipe is not our error.
    child.stdin!.on("error", () => {});
    createReadStream(file).on("error", (error) => done({ code: null, error: error.message })).pipe(child.stdin!);
    child.on("error", (error: NodeJS.ErrnoException) => done({ code: null, error: error.code ?? error.message }));
    child.on("close", (code) => done({ code }));
  });
  if (result.code !== 0) {
    throw new StackError(`${argv.slice(0, 2).join(" ")} failed${result.error ? ` (${result.error})` : ` (exit ${result.code})`}: ${lastLines(stderr, 5)}`);
  }
}

/**
 * The SHA-256 and size of a file, read as a stream; undefined when it does not exist.
 *
 * @example
 * ```ts
 * await fileDigest("backups/x/etl-monitoring-grafana-data.tar.gz"); // { bytes: 20480, sha256: "ab…" }
 * ```
 */
export function fileDigest(file: string): Promise<{ bytes: number; sha256: string } | undefined> {
  return new Promise((done, fail) => {
    const hash = createHash("sha256");
    let bytes = 0;
    createReadStream(file)
      .on("data", (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
      })
      .on("error", (error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? done(undefined) : fail(error)))
      .on("end", () => done({ bytes, sha256: hash.digest("hex") }));
  });
}

/**
 * The last `count` non-empty lines of a command's output, joined with " / "
 * (or "no output").
 *
 * @example
 * ```ts
 * lastLines("a\n\nb\nc\n", 2); // "b / c"
 * ```
 */
export function lastLines(text: string, count: number): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  return lines.length === 0 ? "no output" : lines.slice(-count).join(" / ");
}

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
 * The Compose command to use: `forced` (ETL_COMPOSE) as given (checked
 * with `version`), else `docker compose` when `docker compose version`
 * succeeds, else `docker-compose`; throws a {@linkcode StackError} when
 * none answers.
 *
 * @example
 * ```ts
 * await detectCompose(undefined, process.env); // ["docker-compose"] where only Compose v1 is installed
 * ```
 */
export async function detectCompose(forced: string | undefined, env: Env): Promise<string[]> {
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
    if (result.spawnError === "ENOENT") throw new StackError(`ETL_COMPOSE is ${JSON.stringify(forced)}, but ${choice.command[0]} is not found`);
    if (result.code !== 0) {
      throw new StackError(`ETL_COMPOSE is ${JSON.stringify(forced)}, but \`${versionArgv(choice.command).join(" ")}\` failed: ${lastLines(result.stderr || result.stdout, 2)}`);
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

/**
 * One Compose project: runs Compose calls with `-p` and `-f` and its
 * environment, and reads the state of its containers.
 *
 * @example
 * ```ts
 * const stack = new ComposeStack(target, env);
 * await stack.run(["up", "-d"]);
 * (await stack.containers()).get("grafana")?.health; // "healthy"
 * ```
 */
export class ComposeStack {
  constructor(readonly target: ComposeTarget, readonly env: Env) {}

  /** Runs a Compose call on the terminal; throws a {@linkcode StackError} when it fails. */
  async run(args: readonly string[], what = `compose ${args[0]}`): Promise<void> {
    const code = await inherit(composeArgv(this.target, args), this.env);
    if (code !== 0) throw new StackError(`${what} failed (exit ${code}); the output above says why`);
  }

  /** Runs a Compose call on the terminal and returns its exit code. */
  runCode(args: readonly string[]): Promise<number> {
    return inherit(composeArgv(this.target, args), this.env);
  }

  /** Runs a Compose call and returns its output; throws a {@linkcode StackError} when it fails. */
  async capture(args: readonly string[]): Promise<string> {
    const result = await capture(composeArgv(this.target, args), this.env);
    if (result.code !== 0) {
      const why = result.spawnError ?? lastLines(result.stderr || result.stdout, 5);
      throw new StackError(`${this.target.command.join(" ")} ${args.join(" ")} failed: ${why}`);
    }
    return result.stdout;
  }

  /** The services of the Compose file with what each depends on, and its volumes (`compose config`). */
  async config(): Promise<ReturnType<typeof readComposeConfig>> {
    if (!existsSync(this.target.file)) throw new StackError(`the Compose file ${this.target.file} does not exist`);
    const text = await this.capture(configArgs());
    try {
      return readComposeConfig(text);
    } catch (error) {
      throw new StackError(`cannot read the Compose file ${this.target.file}: ${(error as Error).message}`);
    }
  }

  /** The container of each service (`compose ps -a -q`, then `docker inspect`), by service. */
  async containers(): Promise<Map<string, ContainerInfo>> {
    const ids = (await this.capture(psArgs())).split(/\s+/).filter((id) => /^[0-9a-f]{12,64}$/.test(id));
    if (ids.length === 0) return new Map();
    const result = await capture(["docker", "inspect", ...ids], this.env);
    // A container removed between ps and inspect makes inspect fail for it alone; ask again once.
    const json = result.code === 0 ? result.stdout : (await capture(["docker", "inspect", ...ids], this.env)).stdout || "[]";
    try {
      return containersByService(parseInspect(json.trim() === "" ? "[]" : json));
    } catch (error) {
      throw new StackError((error as Error).message);
    }
  }

  /** The last `lines` lines of a service's log, or why they could not be read. */
  async logTail(service: string, lines: number): Promise<string> {
    const result = await capture(composeArgv(this.target, logsArgs({ service, tail: String(lines), follow: false, noColor: true })), this.env);
    return result.code === 0 ? result.stdout.trimEnd() : `(cannot read the log: ${lastLines(result.stderr, 2)})`;
  }
}

/**
 * Where progress goes, and whether it is a terminal (a ticking line then).
 *
 * @example
 * ```ts
 * const io: ProgressIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), tty: process.stdout.isTTY === true };
 * ```
 */
export interface ProgressIo {
  out(text: string): void;
  err(text: string): void;
  tty: boolean;
  /** The terminal's width: the ticking line is cut to fit, so that it never wraps. */
  columns?: number;
}

/**
 * Options of {@linkcode waitUntilReady}.
 *
 * @example
 * ```ts
 * const options: WaitOptions = { timeoutSeconds: 300, pollMs: 1000, logLines: 20 };
 * ```
 */
export interface WaitOptions {
  timeoutSeconds: number;
  pollMs?: number;
  /** Lines of each unready service's log shown on failure. */
  logLines?: number;
  /**
   * Look once instead of waiting, after `what` failed (e.g. `compose up`
   * stopping on an unhealthy dependency): the error names `what` and the
   * services not ready.
   */
  onlyLook?: string;
}

/**
 * Waits until every service of `services` is ready (healthy, or exited 0
 * for a one-shot service), printing one line per state change and, on a
 * terminal, a ticking line. On timeout, or when a service stops for good,
 * throws a {@linkcode StackError} naming the services not ready, after
 * printing the last lines of their logs.
 *
 * @example
 * ```ts
 * await waitUntilReady(stack, ["etl-simulator", "etl-metrics"], io, { timeoutSeconds: 300 });
 * ```
 */
export async function waitUntilReady(
  stack: Pick<ComposeStack, "containers" | "logTail">,
  services: readonly string[],
  io: ProgressIo,
  options: WaitOptions,
): Promise<void> {
  const { timeoutSeconds, pollMs = 1000, logLines = 20 } = options;
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  let shown = new Map<string, string>();
  let states = new Map<string, Readiness>();
  let ticking = false;
  const width = Math.max(20, (io.columns || 100) - 1);
  const tick = () => {
    if (!io.tty || states.size === 0) return;
    io.out(`\r\x1b[K${progressLine(states, (Date.now() - started) / 1000).slice(0, width)}`);
    ticking = true;
  };
  const clearTick = () => {
    if (ticking) io.out("\r\x1b[K");
    ticking = false;
  };
  // The ticking line moves every second, even while a look at the containers takes longer.
  const ticker = io.tty ? setInterval(tick, 1000) : undefined;
  // A service that stopped may be restarted by its policy: give it a few looks before giving up.
  const failedSince = new Map<string, number>();
  try {
    for (;;) {
      const containers = await stack.containers();
      const now = Date.now();
      states = new Map(services.map((s) => [s, readiness(s, containers.get(s))]));
      const texts = new Map([...states].map(([s, r]) => [s, r.text]));
      const changes = stateChanges(shown, texts, (now - started) / 1000);
      shown = texts;
      if (changes.length > 0) {
        clearTick();
        io.out(changes.join("\n") + "\n");
      }
      for (const [s, r] of states) {
        if (r.state === "failed") failedSince.set(s, failedSince.get(s) ?? now);
        else failedSince.delete(s);
      }
      if ([...states.values()].every((r) => r.state === "ready")) return;
      const givenUp = [...failedSince].some(([s, since]) => ONE_SHOT_SERVICES.includes(s) || now - since >= 5000);
      if (givenUp || now >= deadline || options.onlyLook !== undefined) {
        clearTick();
        const message = options.onlyLook !== undefined
          ? `${options.onlyLook}: ${notReadyMessage(states, { failed: true })}`
          : givenUp
          ? notReadyMessage(states, { failed: true })
          : notReadyMessage(states, { timedOutAfter: timeoutSeconds });
        for (const [s, r] of states) {
          if (r.state === "ready") continue;
          io.err(`--- last ${logLines} lines of ${s}'s log ---\n${await stack.logTail(s, logLines)}\n`);
        }
        throw new StackError(message);
      }
      tick();
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(pollMs, deadline - Date.now()))));
    }
  } finally {
    clearInterval(ticker);
    clearTick();
  }
}
