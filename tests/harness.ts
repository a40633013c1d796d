/**
 * Helpers for tests that run the real workers as processes on 127.0.0.1.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureCertificates } from "../commands/secrets/ca.ts";
import { ensureStackSecrets } from "../commands/secrets/store.ts";
import { type NativeStack, type NativeStackOptions, type StackPorts, startNativeStack } from "../commands/stack/native.ts";
import { freePort } from "../tools/free_port.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const DENO = join(ROOT, "node_modules/.bin/deno");
// Workers run from a folder of their own, so a default like ./secrets never lands in the repository.
const WORKER_CWD = mkdtempSync(join(tmpdir(), "etl-worker-cwd-"));
process.once("exit", () => rmSync(WORKER_CWD, { recursive: true, force: true }));

export const DENO_FLAGS = ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys"];

export { freePort };

/** A temporary folder removed by {@linkcode cleanup}. */
export function tempDir(prefix = "etl-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A worker process with its output kept for assertions. */
export interface Worker {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a worker bundle (`dist/<name>.mjs`) under Node, or its source under Deno. */
export function startWorker(
  name: "simulator" | "exporter" | "receiver",
  args: string[],
  env: Record<string, string> = {},
  runtime: "node" | "deno" = "node",
): Worker {
  const [command, argv] = runtime === "node"
    ? [process.execPath, [join(ROOT, `dist/${name}.mjs`), ...args]]
    : [DENO, [...DENO_FLAGS, join(ROOT, `workers/${name}/main.ts`), ...args]];
  const child = spawn(command, argv, { cwd: WORKER_CWD, env: { ...process.env, ETL_LOG_LEVEL: "warning", ...env }, stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on("exit", (code, signal) => done({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs a worker to its end. */
export async function runWorker(
  name: "simulator" | "exporter",
  args: string[],
  env: Record<string, string> = {},
  runtime: "node" | "deno" = "node",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const worker = startWorker(name, args, env, runtime);
  const { code } = await worker.exited;
  return { code, stdout: worker.stdout(), stderr: worker.stderr() };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sample values of a text exposition, by `name{labels}` exactly as written. */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/** The samples of the counters that must match between two sources. */
export function counterSamples(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of parseExposition(text)) {
    if (/^etl_(records|files|failures|errors_by_type|starts)_total\{/.test(key) || /^etl_file_processing_duration_seconds_(bucket|count|sum)\{/.test(key)) {
      out[key] = value;
    }
  }
  return out;
}

/** Stops a worker if it still runs. */
export async function stopWorker(worker: Worker, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill(signal);
    await worker.exited;
  }
}

/** Removes temporary folders. */
export function cleanup(dirs: string[]): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A native stack for a test: fresh secrets (bcrypt cost 4, for speed; the local CA with `tls`) and free ports in a temporary folder. */
export async function startTestStack(
  prefix: string,
  options: Omit<NativeStackOptions, "root" | "runDir" | "secretsDir" | "ports" | "extraScrapeJobs"> & {
    /** Extra jobs, made once the ports are known. */
    extraScrapeJobs?: (ports: StackPorts) => Record<string, unknown>[];
  },
): Promise<{ stack: NativeStack; runDir: string; secretsDir: string; ports: StackPorts }> {
  const runDir = tempDir(prefix);
  const secretsDir = join(runDir, "secrets");
  await ensureStackSecrets(secretsDir, { cost: 4 });
  if (options.tls) await ensureCertificates(secretsDir);
  const ports: StackPorts = {
    exporter: await freePort(),
    simulator: await freePort(),
    receiver: await freePort(),
    prometheus: await freePort(),
    alertmanager: await freePort(),
  };
  const stack = await startNativeStack({ root: ROOT, runDir, secretsDir, ports, ...options, extraScrapeJobs: options.extraScrapeJobs?.(ports) });
  return { stack, runDir, secretsDir, ports };
}

/** A spawned process whose output is kept; `exited` resolves to its exit code. */
export interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Spawns `command args` with piped output kept for assertions. */
export function spawnProcess(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Spawned {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Kills (SIGKILL) every process of `list` still running and empties it. */
export async function killAll(list: Spawned[]): Promise<void> {
  for (const p of list.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGKILL");
      await p.exited;
    }
  }
}
