import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { recount } from "../tools/recount.ts";
import {
  cleanup, counterSamples, freePort, parseExposition, runWorker, startWorker, stopWorker, tempDir, waitFor, type Worker,
} from "./harness.ts";

const dirs: string[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w, "SIGKILL");
  cleanup(dirs);
});

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const requireRealTools = process.env.CI === "true";

async function generate(dir: string, events: number, seed = 7) {
  const result = await runWorker("simulator", ["--data-dir", dir, "--events", String(events), "--seed", String(seed)]);
  expect(result.code).toBe(0);
}

function expectedCounters(dir: string): Record<string, number> {
  const state = recount(readFileSync(join(dir, "logs/etl.log"), "utf8"), { maxLineBytes: 65_536 });
  const p = state.pipelines.etl!;
  return {
    records: p.recordsTotal,
    files: p.filesTotal,
    failures: p.failuresTotal,
    parsed: state.lines.parsed,
    malformed: state.lines.malformed,
    rejected: state.lines.rejected,
  };
}

function countersOf(text: string) {
  const m = parseExposition(text);
  return {
    records: m.get('etl_records_total{pipeline="etl"}'),
    files: m.get('etl_files_total{pipeline="etl"}'),
    failures: m.get('etl_failures_total{pipeline="etl"}'),
    parsed: m.get('etl_exporter_log_lines_total{result="parsed"}'),
    malformed: m.get('etl_exporter_log_lines_total{result="malformed"}'),
    rejected: m.get('etl_exporter_log_lines_total{result="rejected"}'),
  };
}

describe("exporter --once", () => {
  it.each(["node", "deno"] as const)("prints counters equal to a recount of the log (%s)", async (runtime) => {
    const dir = tempDir();
    dirs.push(dir);
    await generate(dir, 3_000);
    appendFileSync(join(dir, "logs/etl.log"), "not json\n{\"event\":\"heartbeat\"}\n");
    const { code, stdout } = await runWorker("exporter", ["--data-dir", dir, "--once"], {}, runtime);
    expect(code).toBe(0);
    const m = parseExposition(stdout);
    const expected = expectedCounters(dir);
    expect(m.get('etl_records_total{pipeline="etl"}')).toBe(expected.records);
    expect(m.get('etl_files_total{pipeline="etl"}')).toBe(expected.files);
    expect(m.get('etl_failures_total{pipeline="etl"}')).toBe(expected.failures);
    expect(expected.parsed).toBe(3_000);
    expect(expected.malformed).toBe(1);
    expect(expected.rejected).toBe(1);
  }, 60_000);

  it("runs the bundle under Deno too, with the same output as Node", async () => {
    const dir = tempDir();
    dirs.push(dir);
    await generate(dir, 500);
    const node = await runWorker("exporter", ["--data-dir", dir, "--once"]);
    const deno = spawnSync(join(process.cwd(), "node_modules/.bin/deno"), ["run", "-A", "dist/exporter.mjs", "--data-dir", dir, "--once"], { encoding: "utf8" });
    expect(deno.status).toBe(0);
    expect(counterSamples(deno.stdout)).toEqual(counterSamples(node.stdout));
    expect(Object.keys(counterSamples(node.stdout)).length).toBeGreaterThan(10);
  }, 60_000);
});

describe("bad settings", () => {
  it.each([
    [{ EXPORTER_PORT: "http" }, 'EXPORTER_PORT="http": must be a whole number 1-65535'],
    [{ ETL_SPEED: "-1" }, 'ETL_SPEED="-1": must be a number above 0, at most 10000'],
    [{ ETL_LOG_LEVEL: "loud" }, 'ETL_LOG_LEVEL="loud"'],
  ])("%o gives a clear message and exit 2, no stack trace", async (env, message) => {
    const { code, stderr } = await runWorker("exporter", ["--once"], env as Record<string, string>);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it.each(["node", "deno"] as const)("names a port already in use and exits 1, no stack trace (%s)", async (runtime) => {
    const taken = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const dir = tempDir();
      dirs.push(dir);
      const { code, stderr } = await runWorker("exporter", ["--data-dir", dir], { EXPORTER_PORT: String(port) }, runtime);
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use (another copy running?); set EXPORTER_PORT to another port`);
      expect(stderr).not.toMatch(/\n\s+at /);
      // The flag wins over the variable, so the advice names the flag.
      const both = await runWorker("exporter", ["--data-dir", dir, "--exporter-port", String(port)], { EXPORTER_PORT: String(port + 1) }, runtime);
      expect(both.code).toBe(1);
      expect(both.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use (another copy running?); set --exporter-port to another port`);
    } finally {
      taken.close();
    }
  }, 30_000);

  it.each(["node", "deno"] as const)("tells a host that is not this machine's from a busy port, exit 2 (%s)", async (runtime) => {
    const dir = tempDir();
    dirs.push(dir);
    const port = await freePort();
    const { code, stderr } = await runWorker("exporter", ["--data-dir", dir, "--host", "999.1.1.1"], { EXPORTER_PORT: String(port) }, runtime);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `cannot listen on 999.1.1.1:${port}: 999.1.1.1 is not an address of this machine; set --host to one that is (127.0.0.1, or 0.0.0.0 for every interface)`,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it("lists the settings on --help and exits 0", async () => {
    const { code, stdout } = await runWorker("simulator", ["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--events VALUE");
    expect(stdout).toContain("--speed VALUE  (ETL_SPEED)");
  });
});

describe("exporter serving", () => {
  it("is ready after catch-up, and after SIGKILL resumes from its checkpoint without losing or double counting", async () => {
    const dir = tempDir();
    dirs.push(dir);
    await generate(dir, 20_000, 3);
    const port = await freePort();
    const env = { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_CHECKPOINT_SECONDS: "0.2", ETL_POLL_MS: "50" };
    const url = `http://127.0.0.1:${port}`;
    const first = startWorker("exporter", [], env);
    workers.push(first);
    await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 15_000, "ready");
    expect(countersOf(await (await fetch(`${url}/metrics`)).text())).toEqual(expectedCounters(dir));

    // More lines arrive, some read before the kill and after the last checkpoint.
    for (let i = 0; i < 5; i++) {
      await generate(dir, 2_000, 100 + i);
      await new Promise((r) => setTimeout(r, 70));
    }
    first.child.kill("SIGKILL");
    await first.exited;
    await generate(dir, 1_000, 200);

    const second = startWorker("exporter", [], env);
    workers.push(second);
    const expected = expectedCounters(dir);
    await waitFor(async () => {
      const got = countersOf(await (await fetch(`${url}/metrics`)).text());
      return got.parsed === expected.parsed ? got : undefined;
    }, 15_000, "catch-up after restart");
    expect(countersOf(await (await fetch(`${url}/metrics`)).text())).toEqual(expected);
  }, 90_000);

  it("counts what a writer rotating by size many times a second wrote, while being SIGKILLed and restarted", async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, "logs"));
    const log = join(dir, "logs/etl.log");
    const port = await freePort();
    const env = { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_CHECKPOINT_SECONDS: "0.1" };
    const url = `http://127.0.0.1:${port}`;
    // The writer's own counts, and a rotation (rename to etl.log.N, new etl.log) every 4 KB.
    const wrote = { records: 0, files: 0, failures: 0, parsed: 0, malformed: 0, rejected: 0 };
    let rotations = 0;
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        let batch = "";
        for (let i = 0; i < 10; i++, n++) {
          const ts = new Date(Date.UTC(2026, 11, 1) + n).toISOString();
          const records = n % 97;
          wrote.records += records;
          wrote.parsed += 1;
          if (n % 7 === 3) {
            wrote.failures += 1;
            batch += JSON.stringify({ v: 1, ts, level: "error", event: "file_failed", pipeline: "etl", file: `f${n}`, error_type: "timeout", records, duration_ms: n / 3, message: "slow" }) + "\n";
          } else {
            wrote.files += 1;
            batch += JSON.stringify({ v: 1, ts, level: "info", event: "file_processed", pipeline: "etl", file: `f${n}`, records, duration_ms: n / 7 }) + "\n";
          }
        }
        appendFileSync(log, batch);
        if (existsSync(log) && readFileSync(log).length > 4096) renameSync(log, `${log}.${++rotations}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      for (let life = 0; life < 3; life++) {
        const exporter = startWorker("exporter", [], env);
        workers.push(exporter);
        await waitFor(async () => ((await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined), 15_000, "ready");
        await new Promise((r) => setTimeout(r, 600 + 150 * life));
        exporter.child.kill("SIGKILL");
        await exporter.exited;
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(rotations).toBeGreaterThan(20);
    const last = startWorker("exporter", [], env);
    workers.push(last);
    await waitFor(async () => {
      const got = countersOf((await (await fetch(`${url}/metrics`).catch(() => undefined))?.text()) ?? "");
      return got.parsed === wrote.parsed ? got : undefined;
    }, 15_000, "every line counted");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(countersOf(metrics)).toEqual(wrote);
    expect(parseExposition(metrics).get("etl_exporter_log_bytes_lost_total")).toBe(0);
  }, 60_000);

  it("starts before any log exists, creates its data folder and checkpoints", async () => {
    const dir = join(tempDir(), "not-yet");
    dirs.push(dir);
    const port = await freePort();
    const exporter = startWorker("exporter", [], { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_CHECKPOINT_SECONDS: "0.2" });
    workers.push(exporter);
    const body = await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^etl_exporter_checkpoint_age_seconds \d/m.test(text) ? text : undefined;
    }, 15_000, "a checkpoint");
    expect(body).toMatch(/^etl_exporter_ready 1$/m);
    expect(existsSync(join(dir, "exporter-checkpoint.json"))).toBe(true);
    expect(exporter.stderr()).not.toContain("Cannot write the checkpoint");
  }, 30_000);

  it.skipIf(!hasPromtool && !requireRealTools)("passes promtool check metrics (but prom-client's nodejs_active_* gauges)", async () => {
    const dir = tempDir();
    dirs.push(dir);
    await generate(dir, 2_000);
    const port = await freePort();
    const exporter = startWorker("exporter", [], { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir });
    workers.push(exporter);
    const body = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return res.ok ? res.text() : undefined;
    }, 15_000, "metrics");
    const check = spawnSync("promtool", ["check", "metrics"], { input: body, encoding: "utf8" });
    const problems = (check.stdout + check.stderr).split("\n").filter((l) => l.trim() !== "" && !/^nodejs_active_\w+_total /.test(l.trim()));
    expect(problems).toEqual([]);
  }, 60_000);
});

describe("simulator endpoint", () => {
  it("guards /metrics with basic auth, leaves /health open, and agrees with the exporter", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const [simPort, expPort] = [await freePort(), await freePort()];
    const passwordFile = join(dir, "password");
    appendFileSync(passwordFile, "correct horse battery staple\n");
    const sim = startWorker("simulator", ["--seed", "9", "--speed", "50"], {
      ETL_DATA_DIR: dir, SIMULATOR_PORT: String(simPort), ETL_METRICS_PASSWORD_FILE: passwordFile,
    });
    const exp = startWorker("exporter", [], { ETL_DATA_DIR: dir, EXPORTER_PORT: String(expPort), ETL_POLL_MS: "50" });
    workers.push(sim, exp);
    const simUrl = `http://127.0.0.1:${simPort}`;
    await waitFor(async () => ((await fetch(`${simUrl}/health`)).status === 200 ? true : undefined), 15_000, "simulator health");
    expect((await fetch(`${simUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${simUrl}/metrics`, { headers: { authorization: `Basic ${btoa("metrics:nope")}` } });
    expect(wrong.status).toBe(401);
    const auth = { authorization: `Basic ${btoa("metrics:correct horse battery staple")}` };
    expect((await fetch(`${simUrl}/metrics`, { headers: auth })).status).toBe(200);

    // The simulator writes in bursts; between two of them both must show the same counters.
    await waitFor(async () => {
      const fromSim = counterSamples(await (await fetch(`${simUrl}/metrics`, { headers: auth })).text());
      const fromExp = counterSamples(await (await fetch(`http://127.0.0.1:${expPort}/metrics`)).text());
      return fromSim['etl_files_total{pipeline="etl"}']! > 0 && JSON.stringify(fromSim) === JSON.stringify(fromExp) ? true : undefined;
    }, 20_000, "simulator and exporter to agree");
  }, 60_000);
});
