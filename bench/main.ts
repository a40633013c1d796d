/**
 * `npm run bench`: the figures the README's benchmarks section reports, in
 * one run, on this machine, on 127.0.0.1 only.
 *
 * 1. one-shot ingest of a 1,000,000-event log: the exporter (Node and Deno)
 *    against Debian's `mtail --one_shot` counting the same things;
 * 2. restart catch-up time after 1M and after 2M events of history;
 * 3. the exporter's RSS idle and after the log;
 * 4. `/metrics` requests/s and p99 latency under 50 concurrent connections
 *    (wrk), and the RSS right after that load and 2 s later;
 * 5. alert notification latency through a real Alertmanager: posted alert to
 *    e-mail (SMTP on loopback, STARTTLS and AUTH) and to a Slack-style webhook.
 *
 * Results go to stdout and to `.bench/results.md`.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { boundedNumber, type SettingsSpec } from "../lib/config/settings.ts";
import { EXPORTER_V8_FLAGS } from "../lib/config/v8_flags.ts";
import { settingsOrExit } from "../workers/start.ts";
import { measureIngestLatency } from "./ingest_latency.ts";
import { measureNotificationLatency } from "./notification_latency.ts";
import { measurePush } from "./push.ts";
import { scrapeBench } from "./scrape.ts";

const ROOT = process.cwd();
const WORK = resolve(ROOT, ".bench");
const BENCH_SETTINGS = {
  events: {
    env: "BENCH_EVENTS",
    flag: "events",
    help: "Events in the benchmark's log (the README's figures are for 1000000).",
    defaultText: "1000000",
    schema: boundedNumber(1, 1e8, { integer: true }).default(1_000_000),
  },
  repeats: {
    env: "BENCH_REPEATS",
    flag: "repeats",
    help: "Runs of each one-shot measure; the best is reported.",
    defaultText: "3",
    schema: boundedNumber(1, 100, { integer: true }).default(3),
  },
} satisfies SettingsSpec;
const USAGE = "Usage: npm run bench [-- flags]\n  Measures the exporter against mtail, catch-up, RSS and /metrics under wrk (about 90 s); writes .bench/results.md.\nSettings (flag, environment variable, default):";
const { events: EVENTS, repeats: REPEATS } = settingsOrExit(BENCH_SETTINGS, USAGE).values;
const DENO = join(ROOT, "node_modules/.bin/deno");
const PORT = 18_583;
const NOTIFICATIONS = Number(process.env.BENCH_NOTIFICATIONS ?? 10);

const results: [string, string][] = [];
const note = (name: string, value: string) => {
  results.push([name, value]);
  process.stderr.write(`${name}: ${value}\n`);
};

function run(command: string, args: string[], options: { env?: Record<string, string> } = {}): { seconds: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, ...options.env } });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return { seconds, stdout: result.stdout };
}

function best(command: string, args: string[]): { seconds: number; stdout: string } {
  let fastest: { seconds: number; stdout: string } | undefined;
  for (let i = 0; i < REPEATS; i++) {
    const r = run(command, args);
    if (!fastest || r.seconds < fastest.seconds) fastest = r;
  }
  return fastest!;
}

function generate(dataDir: string, events: number, seed: number): void {
  run(process.execPath, ["dist/simulator.mjs", "--data-dir", dataDir, "--events", String(events), "--seed", String(seed)], {
    env: { ETL_LOG_LEVEL: "warning" },
  });
}

function lineCount(file: string): number {
  const bytes = readFileSync(file);
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

function sample(text: string, key: string): number {
  const line = text.split("\n").find((l) => l.startsWith(key + " ") || l.startsWith(key.replace("}", ',prog="etl.mtail"}') + " "));
  return Number(line?.split(" ").at(-1));
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

async function waitReady(url: string, child: ChildProcess): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error("exporter exited");
    try {
      if ((await fetch(url)).status === 200) return (performance.now() - started) / 1000;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startExporter(dataDir: string): Promise<{ child: ChildProcess; readySeconds: number }> {
  const child = spawn(process.execPath, [...EXPORTER_V8_FLAGS, "dist/exporter.mjs"], {
    cwd: ROOT,
    stdio: "ignore",
    env: { ...process.env, ETL_DATA_DIR: dataDir, EXPORTER_PORT: String(PORT), ETL_LOG_LEVEL: "warning" },
  });
  const readySeconds = await waitReady(`http://127.0.0.1:${PORT}/-/ready`, child);
  return { child, readySeconds };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

mkdirSync(WORK, { recursive: true });
const oneShotDir = join(WORK, "one-shot");
const logFile = join(oneShotDir, "logs/etl.log");
if (!existsSync(logFile) || lineCount(logFile) !== EVENTS) {
  rmSync(oneShotDir, { recursive: true, force: true });
  process.stderr.write(`Generating ${fmt(EVENTS)} events…\n`);
  generate(oneShotDir, EVENTS, 1);
}
const lines = lineCount(logFile);
const mb = readFileSync(logFile).length / 1e6;
note("log", `${fmt(lines)} lines, ${fmt(mb, 1)} MB`);

// 1. One-shot ingest.
const hasMtail = spawnSync("mtail", ["--version"]).status === 0;
const exporterNode = best(process.execPath, ["dist/exporter.mjs", "--data-dir", oneShotDir, "--once"]);
const exporterDeno = best(DENO, ["run", "-A", "dist/exporter.mjs", "--data-dir", oneShotDir, "--once"]);
note("exporter --once, Node", `${fmt(exporterNode.seconds, 2)} s = ${fmt(lines / exporterNode.seconds)} lines/s`);
note("exporter --once, Deno", `${fmt(exporterDeno.seconds, 2)} s = ${fmt(lines / exporterDeno.seconds)} lines/s`);
if (hasMtail) {
  const mtail = best("mtail", ["--one_shot", "--one_shot_format=prometheus", "--progs", "bench/etl.mtail", "--logs", logFile, "--logtostderr"]);
  note("mtail --one_shot", `${fmt(mtail.seconds, 2)} s = ${fmt(lines / mtail.seconds)} lines/s`);
  note("exporter (Node) / mtail", `${fmt(mtail.seconds / exporterNode.seconds, 2)}×`);
  note("exporter (Deno) / mtail", `${fmt(mtail.seconds / exporterDeno.seconds, 2)}×`);
  for (const key of ['etl_records_total{pipeline="etl"}', 'etl_files_total{pipeline="etl"}', 'etl_failures_total{pipeline="etl"}']) {
    const ours = sample(exporterNode.stdout, key);
    const theirs = sample(mtail.stdout, key);
    if (ours !== theirs) throw new Error(`${key}: exporter ${ours} but mtail ${theirs}`);
  }
  note("counters agree with mtail", "records, files, failures");
} else {
  note("mtail --one_shot", "not installed (apt-get install mtail)");
}

await measureIngestLatency({ root: ROOT, work: WORK, note });

// 3a. RSS idle.
const idleDir = join(WORK, "idle");
rmSync(idleDir, { recursive: true, force: true });
mkdirSync(join(idleDir, "logs"), { recursive: true });
{
  const { child } = await startExporter(idleDir);
  await new Promise((r) => setTimeout(r, 1000));
  note("exporter RSS idle (Node)", `${fmt(rssKb(child.pid!) / 1024, 1)} MB`);
  await stop(child);
}

// 2. Restart catch-up, and 3b. RSS after the log.
const liveDir = join(WORK, "live");
rmSync(liveDir, { recursive: true, force: true });
mkdirSync(join(liveDir, "logs"), { recursive: true });
writeFileSync(join(liveDir, "logs/etl.log"), readFileSync(logFile));
const restartTimes: number[] = [];
for (const round of [1, 2]) {
  const first = await startExporter(liveDir);
  if (round === 1) note("first catch-up from zero (1M history)", `${fmt(first.readySeconds, 2)} s`);
  await stop(first.child);
  generate(join(WORK, "tail"), 10_000, 100 + round);
  appendFileSync(join(liveDir, "logs/etl.log"), readFileSync(join(WORK, "tail/logs/etl.log")));
  rmSync(join(WORK, "tail"), { recursive: true, force: true });
  const restarted = await startExporter(liveDir);
  restartTimes.push(restarted.readySeconds);
  const history = lineCount(join(liveDir, "logs/etl.log"));
  note(`restart catch-up, 10k new lines, ${fmt(history)} lines of history`, `${fmt(restarted.readySeconds, 3)} s`);
  if (round === 1) {
    note("exporter RSS after the log (Node)", `${fmt(rssKb(restarted.child.pid!) / 1024, 1)} MB`);
    // 4. /metrics under load.
    const hasWrk = spawnSync("wrk", ["--version"]).status !== null;
    if (hasWrk) {
      const wrk = run("wrk", ["-t2", "-c50", "-d10s", "--latency", `http://127.0.0.1:${PORT}/metrics`]).stdout;
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk)?.[1]);
      const p99 = /\s99%\s+([\d.]+\w+)/.exec(wrk)?.[1];
      note("/metrics under wrk -t2 -c50 -d10s", `${fmt(rps)} requests/s, p99 ${p99}`);
      const rssAfter = rssKb(restarted.child.pid!) / 1024;
      await new Promise((r) => setTimeout(r, 2000));
      note("exporter RSS after the load / 2 s later (Node)", `${fmt(rssAfter, 1)} / ${fmt(rssKb(restarted.child.pid!) / 1024, 1)} MB`);
    } else {
      note("/metrics load", "wrk not installed (apt-get install wrk)");
    }
    // A second million events of history for round 2.
    await stop(restarted.child);
    appendFileSync(join(liveDir, "logs/etl.log"), readFileSync(logFile));
  } else {
    await stop(restarted.child);
  }
}

// 5. Notification latency (needs Debian's prometheus-alertmanager).
if (spawnSync("prometheus-alertmanager", ["--version"]).status === 0) {
  const { emailMs, slackMs } = await measureNotificationLatency(join(WORK, "notifications"), NOTIFICATIONS);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  note(`alert posted to Alertmanager → e-mail (STARTTLS + AUTH), median / max of ${NOTIFICATIONS}`, `${fmt(median(emailMs))} ms / ${fmt(Math.max(...emailMs))} ms`);
  note(`alert posted to Alertmanager → Slack webhook, median / max of ${NOTIFICATIONS}`, `${fmt(median(slackMs))} ms / ${fmt(Math.max(...slackMs))} ms`);
} else {
  note("notification latency", "skipped: apt-get install prometheus-alertmanager");
}

await scrapeBench(note);
// 6. The limits of issue 17: the exporter at its pipeline cap, the receiver after a flood.
await (await import("./limits.ts")).benchLimits(note);
await measurePush({ root: ROOT, work: WORK, note });
const table = ["| measure | result |", "|---|---|", ...results.map(([k, v]) => `| ${k} | ${v} |`)].join("\n");
writeFileSync(join(WORK, "results.md"), table + "\n");
process.stdout.write(table + "\n");
