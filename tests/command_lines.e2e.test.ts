// Every command's command line, as a new user meets it: `--help` answers
// (exit 0) and writes nothing; an unknown flag or a stray argument is refused
// with exit 2, before any file is touched; an out-of-range value is answered
// with its bounds. Each runs from an empty folder, so a file written shows.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, freePort, ROOT, startWorker, stopWorker, tempDir, waitFor } from "./harness.ts";

const dirs: string[] = [];
afterAll(() => cleanup(dirs));

// Every bundle a person runs (npm run X), but the exporter's ingest thread, which no one runs.
// Each of `stack`'s commands is checked in commands/stack/cli_commands.test.ts.
const COMMANDS = [
  "simulator", "exporter", "dev", "receiver", "secrets", "scenario", "secrets-fanout",
  "build-schema", "build-rules", "build-dashboards", "build-compose-tls", "bench", "build", "stack", "stack-local",
];

function run(bundle: string, args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string; wrote: string[] } {
  const cwd = tempDir("etl-cli-");
  dirs.push(cwd);
  // `npm run build` is the bundler itself, not a bundle.
  const file = bundle === "build" ? join(ROOT, "commands/build/bundle.mjs") : join(ROOT, `dist/${bundle}.mjs`);
  const r = spawnSync(process.execPath, [file, ...args], { cwd, encoding: "utf8", timeout: 20_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, wrote: readdirSync(cwd) };
}

describe.each(COMMANDS)("%s", (bundle) => {
  it("answers --help with its usage, exit 0, and writes nothing", () => {
    const r = run(bundle, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
    expect(r.wrote).toEqual([]);
  });

  it("refuses an unknown flag with exit 2 and writes nothing", () => {
    const r = run(bundle, ["--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--no-such-flag");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.wrote).toEqual([]);
  });
});

describe("out-of-range values name their bounds", () => {
  it.each([
    ["exporter", ["--exporter-port", "70000"], '--exporter-port="70000": must be a whole number 1-65535'],
    ["exporter", ["--poll-ms", "0"], '--poll-ms="0": must be a whole number 10-60000'],
    ["exporter", ["--max-line-bytes", "0"], '--max-line-bytes="0": must be a whole number 256-67108864'],
    ["exporter", ["--stale-after-seconds", "0"], '--stale-after-seconds="0": must be a number 1-86400'],
    ["exporter", ["--ingest-workers", "1000"], '--ingest-workers="1000": must be a whole number 0-64'],
    ["receiver", ["--receiver-port", "0"], '--receiver-port="0": must be a whole number 1-65535'],
    ["simulator", ["--events=-5"], '--events="-5": must be a whole number 1-1000000000'],
    ["simulator", ["--events", "-5"], '--events="-5": must be a whole number 1-1000000000'],
    ["simulator", ["--log-level", "trace"], '--log-level="trace": must be one of debug, info, warn, error'],
    ["build-rules", ["--speed", "0"], '--speed="0": must be a number above 0, at most 10000'],
    ["bench", ["--events", "0"], '--events="0": must be a whole number 1-100000000'],
    ["stack-local", ["--speed", "0.5"], '--speed="0.5": must be a number 1-10000'],
    ["stack-local", ["--prometheus-port", "70000"], '--prometheus-port="70000": must be a whole number 1-65535'],
  ])("%s %j", (bundle, args, message) => {
    const r = run(bundle, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`Bad settings:\n  ${message}\n`);
    expect(r.wrote).toEqual([]);
  });
});

describe("simulator --events", () => {
  it("says what it wrote where, and refuses a log a live simulator writes", async () => {
    const dir = tempDir("etl-events-");
    dirs.push(dir);
    const first = run("simulator", ["--data-dir", dir, "--events", "100", "--seed", "7"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^Wrote 100 events to ${dir}/logs/etl\\.log in \\d+\\.\\d\\d s \\(seed 7\\)\\n$`));
    expect(readdirSync(join(dir, "logs"))).toEqual(["etl.log"]);

    const port = await freePort();
    const live = startWorker("simulator", ["--data-dir", dir, "--simulator-port", String(port)]);
    try {
      await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/-/healthy`)).ok ? true : undefined), 10_000, "the live simulator");
      const before = readFileSync(join(dir, "logs/etl.log"), "utf8");
      const second = run("simulator", ["--data-dir", dir, "--events", "100", "--seed", "7"]);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(
        `${dir}/logs/etl.log is being written by a running simulator (pid ${live.child.pid}, see ${dir}/logs/etl.log.lock): ` +
          "stop it first, or give this one another --data-dir\n",
      );
      // Nothing of the second run's: the file grew only by what the live one wrote, which never repeats seed 7's first line.
      const after = readFileSync(join(dir, "logs/etl.log"), "utf8");
      expect(after.startsWith(before)).toBe(true);
      expect(after.slice(before.length)).not.toContain(before.split("\n")[0]!.slice(0, 60));
    } finally {
      await stopWorker(live);
    }
    // Stopped, it gives the file back.
    expect(readdirSync(join(dir, "logs"))).toEqual(["etl.log"]);
  }, 30_000);
});

describe("stack:local", () => {
  it("names a taken port and the setting that moves it, before anything starts", async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const ports = ["--exporter-port", "--simulator-port", "--receiver-port", "--alertmanager-port"];
      const args = (await Promise.all(ports.map(async (flag) => [flag, String(await freePort())]))).flat();
      const r = run("stack-local", args, { ETL_PROMETHEUS_PORT: String(taken) });
      expect(r.stderr).toBe(`stack:local: port ${taken} on 127.0.0.1 (Prometheus) is taken by another program: set ETL_PROMETHEUS_PORT to a free port\n`);
      expect(r.code).toBe(1);
      // No secrets made, no run folder: nothing started.
      expect(r.wrote).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it("stops every part and exits 1 when one stops at start, naming it and its log", async () => {
    const dir = tempDir("etl-local-");
    dirs.push(dir);
    const flags = ["--exporter-port", "--simulator-port", "--receiver-port", "--alertmanager-port", "--prometheus-port"];
    const args = (await Promise.all(flags.map(async (flag) => [flag, String(await freePort())]))).flat();
    // The exporter refuses this variable (it passes through to the workers); the receiver started before it.
    const r = run("stack-local", [...args, "--run-dir", join(dir, "run"), "--secrets-dir", join(dir, "secrets")], { ETL_POLL_MS: "0" });
    expect(r.stderr).toContain(
      `stack:local: could not start, stopped everything: exporter stopped before it was ready (exit code 2); see ${join(dir, "run/logs/exporter.log")}\n`,
    );
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, "run/logs/exporter.log"), "utf8")).toContain('ETL_POLL_MS="0": must be a whole number 10-60000');
    // The receiver, up before the exporter, was stopped: its port is free again.
    const receiverPort = Number(args[args.indexOf("--receiver-port") + 1]);
    await new Promise<void>((done, fail) => {
      const probe = createServer().once("error", fail);
      probe.listen(receiverPort, "127.0.0.1", () => probe.close(() => done()));
    });
  }, 30_000);

  it("says a flag npm kept for itself never reached it", () => {
    // What `npm run stack:local --speed 10` hands the command: npm_config_speed, and 10 as an argument.
    const r = run("stack-local", ["10"], { npm_lifecycle_event: "stack:local", npm_config_speed: "true" });
    expect(r.stderr).toBe(
      "npm took --speed as its own setting, so it never reached this command: put the flags after --, as in npm run stack:local -- --speed VALUE\n",
    );
    expect(r.code).toBe(2);
  });
});
