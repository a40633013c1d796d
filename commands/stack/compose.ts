/**
 * A Compose project as the management CLI drives it: running Compose
 * commands on it, reading its configuration and containers, and waiting
 * until its services are ready.
 *
 * @example
 * ```ts
 * import { ComposeStack } from "./compose.ts";
 * const stack = new ComposeStack({ command, project: "etl-monitoring", file: "/repo/deploy/compose/docker-compose.yml" }, process.env);
 * const containers = await stack.containers();
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import {
  type ComposeTarget,
  composeArgv,
  configArgs,
  logsArgs,
  psArgs,
  readComposeConfig,
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
} from "../../lib/stack/containers.ts";
import { capture, type Env, inherit, lastLines, StackError } from "./run_command.ts";

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
