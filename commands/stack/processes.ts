/**
 * Starts and stops the processes of a native stack: each one's output goes
 * to its own log file, readiness is an HTTP probe, and stopping sends
 * SIGTERM, then SIGKILL to what is still running after a grace period.
 *
 * @example
 * ```ts
 * import { ProcessGroup } from "./processes.ts";
 * const group = new ProcessGroup("/tmp/stack/logs");
 * const prometheus = group.start("prometheus", "prometheus", ["--config.file=…"]);
 * await group.waitHttp("prometheus", "http://127.0.0.1:9090/-/ready", { user: "readonly", password });
 * await group.stopAll();
 * ```
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { basicAuthorization } from "../../lib/auth/basic_authorization.ts";
import { httpGet } from "./https_get.ts";

/** A process of the group. */
export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/** Basic-auth credentials for a probe. */
export interface ProbeAuth {
  user: string;
  password: string;
}

/** A process that stopped without being asked to (a crash, a taken port). */
export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
}

/** How a process stopped, for a message: "exit code 1" or "signal SIGKILL". */
export const howItStopped = (exit: UnexpectedExit) => (exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`);

/** The processes of one stack. */
export class ProcessGroup {
  readonly logDir: string;
  readonly #processes = new Map<string, Managed>();
  readonly #logs: WriteStream[] = [];
  readonly #stopping = new Set<Managed>();
  /** Every process that stopped by itself, in order. */
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Called when a process stops by itself. */
  onUnexpectedExit?: (exit: UnexpectedExit) => void;

  constructor(logDir: string) {
    this.logDir = logDir;
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts `command args` under `name`; its stdout and stderr go to `<logDir>/<name>.log`. */
  start(name: string, command: string, args: string[], env: Record<string, string | undefined> = {}): Managed {
    if (this.#processes.has(name)) throw new Error(`${name} is already running`);
    const logFile = join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: "a" });
    this.#logs.push(log);
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const exited = new Promise<number | null>((resolve) => {
      child.once("error", (error) => {
        log.write(`failed to start ${command}: ${error.message}\n`);
        resolve(null);
      });
      child.once("exit", (code, signal) => {
        if (!this.#stopping.has(managed)) {
          const exit = { name, code, signal, logFile };
          this.unexpectedExits.push(exit);
          this.onUnexpectedExit?.(exit);
        }
        resolve(code);
      });
    });
    const managed: Managed = { name, child, logFile, exited };
    this.#processes.set(name, managed);
    void exited.then(() => this.#processes.get(name) === managed && this.#processes.delete(name));
    return managed;
  }

  /** The running process called `name`, if any. */
  get(name: string): Managed | undefined {
    return this.#processes.get(name);
  }

  /**
   * Polls `url` until it answers 2xx (over HTTPS trusting only `ca`, when
   * given); fails after `timeoutMs`, or when any process of the group stops
   * by itself after the `exitsBefore`-th such stop (default: from now), so a
   * stack never comes up with a part dead.
   */
  async waitHttp(
    name: string,
    url: string,
    auth?: ProbeAuth,
    timeoutMs = 30_000,
    exitsBefore = this.unexpectedExits.length,
    ca?: string,
  ): Promise<void> {
    const managed = this.#processes.get(name);
    const deadline = Date.now() + timeoutMs;
    const headers: Record<string, string> = auth ? { authorization: basicAuthorization(auth.user, auth.password) } : {};
    for (;;) {
      this.throwIfExitedSince(exitsBefore, name);
      try {
        // A server that accepts but never answers must not hang the wait past its deadline.
        const response = await httpGet(url, { headers, ca, timeoutMs: Math.max(1, Math.min(5_000, deadline - Date.now())) });
        if (response.status >= 200 && response.status < 300) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} after ${timeoutMs / 1000} s; see ${managed?.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Throws when a process stopped by itself after the `exitsBefore`-th such stop, naming it and its log. */
  throwIfExitedSince(exitsBefore: number, waitingFor?: string): void {
    const exit = this.unexpectedExits[exitsBefore];
    if (exit === undefined) return;
    const when = waitingFor === undefined || waitingFor === exit.name ? "before it was ready" : `while ${waitingFor} was starting`;
    throw new Error(`${exit.name} stopped ${when} (${howItStopped(exit)}); see ${exit.logFile}`);
  }

  /** Stops one process: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(name: string, signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000): Promise<void> {
    const managed = this.#processes.get(name);
    if (!managed) return;
    this.#stopping.add(managed);
    managed.child.kill(signal);
    const timer = setTimeout(() => managed.child.kill("SIGKILL"), graceMs);
    await managed.exited;
    clearTimeout(timer);
  }

  /** Stops every process, in reverse order of start, and closes the logs. */
  async stopAll(graceMs = 5_000): Promise<void> {
    for (const name of [...this.#processes.keys()].reverse()) await this.stop(name, "SIGTERM", graceMs);
    for (const log of this.#logs.splice(0)) log.end();
  }
}
