/**
 * Running a command of the management CLI (`docker`, Compose): its output
 * captured, streamed to the terminal, or piped to and from a file, with a
 * {@linkcode StackError} saying what failed. The command lines are built in
 * `lib/stack/`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";

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
