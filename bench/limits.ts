/**
 * The figures of the README's "Limits" section: the exporter at its
 * pipeline cap (RSS, checkpoint size, `/metrics`, a restart from that
 * checkpoint) and the receiver after a flood of maximum-size notifications.
 * Runs the bundles in dist/ on 127.0.0.1. The exporter gets a 64 MB
 * old-space heap, a quarter of its 256 MB Compose limit (V8's share of a
 * machine's memory) and a young generation of 1 MB semi-spaces (what V8
 * derives from such a heap), as a stand-in for that limit; the receiver
 * 32 MB, for its 128 MB.
 *
 *     npm run bench                                   # with the rest of the benchmark
 *     node commands/build/bundle.mjs && ./node_modules/.bin/deno run -A bench/limits.ts   # these figures only
 *
 * `BENCH_FLOOD` sets the number of posts (default 300); `BENCH_LIMITS_ONLY=receiver` skips the exporter.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { DEFAULT_MAX_PIPELINES } from "../lib/etl/limits.ts";
import { freePort } from "../tools/free_port.ts";
import { exampleWebhook } from "../tools/receiver/example_webhook.ts";

const ROOT = process.cwd();
const WORK = resolve(ROOT, ".bench/limits");
const PIPELINES_OVER_CAP = 500;
const FLOOD = Number(process.env.BENCH_FLOOD ?? 300);
const BODY_BYTES = 1 << 20;
// V8 sizes its young generation from the old one: a few MB for these heaps.
const HEAP = "--max-old-space-size=64 --max-semi-space-size=1";
/** The same stand-in for the receiver's 128 MB. */
const RECEIVER_HEAP = "--max-old-space-size=32 --max-semi-space-size=1";

type Note = (name: string, value: string) => void;

function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) / 1024;
}

// The bundles run on Node, also when this file runs on Deno.
const NODE = (globalThis as { Deno?: unknown }).Deno ? "node" : process.execPath;

function start(bundle: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(NODE, [...(env.NODE_OPTIONS?.split(" ") ?? []), join(ROOT, "dist", bundle), ...args], {
    cwd: ROOT,
    env: { ...process.env, ETL_LOG_LEVEL: "warning", ...env, NODE_OPTIONS: "" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function waitFor(url: string, child: ChildProcess, init?: RequestInit): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, init)).status === 200) return (performance.now() - started) / 1000;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

const mb = (n: number) => `${n.toFixed(1)} MB`;

/** A log naming `count` pipelines, each with a start, 3 files done and one failed, dated in the last minute. */
function writeLog(file: string, count: number): void {
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const pipeline = `run-${i}`;
    const ts = (ms: number) => new Date(now - 60_000 + ms).toISOString();
    lines.push(JSON.stringify({ ts: ts(0), level: "info", event: "etl_started", pipeline }));
    for (let f = 0; f < 3; f++) {
      lines.push(JSON.stringify({ ts: ts(1000 * (f + 1)), level: "info", event: "file_processed", pipeline, file: `f${f}.csv`, records: 100, duration_ms: 900 }));
    }
    lines.push(JSON.stringify({ ts: ts(5000), level: "error", event: "file_failed", pipeline, file: "x.csv", error_type: "disk_full", records: 3, duration_ms: 40, message: "full" }));
  }
  writeFileSync(file, lines.join("\n") + "\n");
}

async function exporterAtCap(note: Note, port: number): Promise<void> {
  const cap = DEFAULT_MAX_PIPELINES;
  const rssOf = async (pipelines: number, label: string) => {
    const dir = join(WORK, `exporter-${pipelines}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "logs"), { recursive: true });
    writeLog(join(dir, "logs/etl.log"), pipelines);
    const args = ["--data-dir", dir, "--exporter-port", String(port)];
    const child = start("exporter.mjs", args, { NODE_OPTIONS: HEAP });
    await waitFor(`http://127.0.0.1:${port}/-/ready`, child);
    // Past two checkpoint writes (every 5 s) and a few scrapes: the peak of a working exporter.
    for (let i = 0; i < 4; i++) {
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 3000));
    }
    const rss = status(child.pid!, "VmRSS");
    const peak = status(child.pid!, "VmHWM");
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1]) / 1e6;
    const checkpoint = statSync(join(dir, "exporter-checkpoint.json")).size / 1e6;
    note(`exporter, ${label}: RSS / peak RSS / heap used / checkpoint`, `${mb(rss)} / ${mb(peak)} / ${mb(heap)} / ${mb(checkpoint)}`);
    return { child, dir, args, heap, checkpoint };
  };
  const one = await rssOf(1, "1 pipeline");
  await stop(one.child);
  const full = await rssOf(cap + PIPELINES_OVER_CAP, `${cap + PIPELINES_OVER_CAP} pipelines named (cap ${cap})`);
  note("exporter, per pipeline at the cap: heap / checkpoint", `${((full.heap - one.heap) * 1000 / cap).toFixed(0)} KB / ${((full.checkpoint - one.checkpoint) * 1e3 / cap).toFixed(1)} KB`);
  let fastest = Infinity;
  let bytes = 0;
  let text = "";
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    fastest = Math.min(fastest, performance.now() - started);
    bytes = text.length;
  }
  const dropped = /^etl_exporter_lines_dropped_total\{reason="pipeline_limit"\} (\d+)/m.exec(text)?.[1];
  note("exporter, /metrics at the cap: best of 5 / size / lines dropped (pipeline_limit)", `${fastest.toFixed(0)} ms / ${mb(bytes / 1e6)} / ${dropped}`);
  await stop(full.child);
  // What used to crash-loop: a restart from that checkpoint.
  const restarted = start("exporter.mjs", full.args, { NODE_OPTIONS: HEAP });
  const seconds = await waitFor(`http://127.0.0.1:${port}/-/ready`, restarted);
  note("exporter, restart from the checkpoint at the cap: ready after / RSS", `${seconds.toFixed(2)} s / ${mb(status(restarted.pid!, "VmRSS"))}`);
  await stop(restarted);
}

/**
 * A maximum-size payload of the worst shape the schema takes: alerts of
 * 256 tiny labels each (objects cost far more memory than their JSON).
 */
function floodPayload(i: number): string {
  const base = exampleWebhook({ groupKey: `flood-${i}` });
  const template = base.alerts[0]!;
  const labels: Record<string, string> = {};
  for (let k = 0; k < 256; k++) labels[`k${String(k).padStart(3, "0")}`] = "";
  const alert = { ...template, labels, annotations: {} };
  const alertChars = JSON.stringify(alert).length + 1;
  const count = Math.floor((BODY_BYTES - JSON.stringify(base).length) / alertChars);
  const body = JSON.stringify({ ...base, alerts: Array.from({ length: count }, () => alert) });
  if (body.length > BODY_BYTES) throw new Error(`flood payload of ${body.length} bytes is over the limit`);
  return body;
}

async function receiverFlood(note: Note, port: number): Promise<void> {
  const dir = join(WORK, "receiver");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const password = "bench-only-password";
  writeFileSync(join(dir, "password"), password);
  const child = start("receiver.mjs", ["--data-dir", dir, "--receiver-port", String(port)], {
    ETL_RECEIVER_PASSWORD_FILE: join(dir, "password"),
    NODE_OPTIONS: RECEIVER_HEAP,
  });
  await waitFor(`http://127.0.0.1:${port}/-/ready`, child);
  const idle = status(child.pid!, "VmRSS");
  const headers = { "Content-Type": "application/json", Authorization: `Basic ${btoa(`alertmanager:${password}`)}` };
  const bodies = Array.from({ length: 10 }, (_, i) => floodPayload(i));
  let ok = 0;
  for (let sent = 0; sent < FLOOD; sent += 4) {
    const batch = Array.from({ length: Math.min(4, FLOOD - sent) }, (_, j) =>
      fetch(`http://127.0.0.1:${port}/webhook`, { method: "POST", headers, body: bodies[(sent + j) % bodies.length] }).then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 200) ok++;
      }));
    await Promise.all(batch);
  }
  const list = await fetch(`http://127.0.0.1:${port}/notifications?limit=1000`, { headers });
  const kept = ((await list.json()) as { notifications: unknown[] }).notifications.length;
  const rss = status(child.pid!, "VmRSS");
  const peak = status(child.pid!, "VmHWM");
  const files = readdirSync(dir).filter((name) => name.startsWith("notifications.jsonl"));
  const disk = files.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0) / 1e6;
  note(
    `receiver, ${FLOOD} posts of ${(bodies[0]!.length / 1048576).toFixed(2)} MiB (4 at a time): RSS idle / after / peak`,
    `${mb(idle)} / ${mb(rss)} / ${mb(peak)} (${ok} accepted, ${kept} kept in memory, ${files.length} files, ${mb(disk)} on disk)`,
  );
  await stop(child);
}

/** Runs both; `note` records each figure. */
export async function benchLimits(note: Note): Promise<void> {
  if (process.env.BENCH_LIMITS_ONLY !== "receiver") await exporterAtCap(note, await freePort());
  await receiverFlood(note, await freePort());
}

if ((import.meta as { main?: boolean }).main) {
  await benchLimits((name, value) => process.stdout.write(`| ${name} | ${value} |\n`));
}
