/**
 * The bench's ingest latency: how long an event appended to a log takes to
 * show on `/metrics`, for the exporter (woken by the file system) and for
 * Debian's mtail (its defaults) in the same run, on the same kind of log.
 *
 * Each sample appends one `file_processed` line, then asks `/metrics` every
 * 2 ms until `etl_files_total` has grown; samples are spaced by a
 * random 20–80 ms so that they do not fall in step with a poll.
 *
 * @example
 * ```ts
 * import { measureIngestLatency } from "./ingest_latency.ts";
 * await measureIngestLatency({ root: process.cwd(), work: ".bench", note: (k, v) => console.log(k, v) });
 * ```
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../tools/free_port.ts";

/**
 * Where to run and where to report.
 *
 * @example
 * ```ts
 * const options: LatencyOptions = { root: ".", work: ".bench", note: () => {}, samples: 50 };
 * ```
 */
export interface LatencyOptions {
  /** The repository (dist/ and bench/ are found there). */
  root: string;
  /** A scratch directory of the bench. */
  work: string;
  note: (name: string, value: string) => void;
  /** Events appended per reader. Default 60. */
  samples?: number;
}

const FILES = /^etl_files_total\{pipeline="lat"[^}]*\} (\S+)$/m;

/**
 * Measures both readers and notes p50, p95 and max for each.
 *
 * @example
 * ```ts
 * await measureIngestLatency({ root, work, note });
 * ```
 */
export async function measureIngestLatency(options: LatencyOptions): Promise<void> {
  const samples = options.samples ?? Number(process.env.BENCH_LATENCY_SAMPLES ?? 60);
  const dir = join(options.work, "latency");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "exporter/logs"), { recursive: true });
  mkdirSync(join(dir, "mtail"), { recursive: true });

  const exporterLog = join(dir, "exporter/logs/lat.log");
  writeFileSync(exporterLog, "");
  const exporterPort = await freePort();
  const exporter = spawn(process.execPath, ["dist/exporter.mjs"], {
    cwd: options.root,
    stdio: "ignore",
    env: { ...process.env, ETL_DATA_DIR: join(dir, "exporter"), EXPORTER_PORT: String(exporterPort), ETL_LOG_LEVEL: "warning" },
  });
  try {
    await waitFor(`http://127.0.0.1:${exporterPort}/-/ready`, exporter);
    const ours = await sampleLatency(exporterLog, `http://127.0.0.1:${exporterPort}/metrics`, samples);
    options.note("append → /metrics, exporter", describe(ours));
  } finally {
    exporter.kill("SIGTERM");
  }

  if (spawnSync("mtail", ["--version"]).status !== 0) {
    options.note("append → /metrics, mtail", "not installed (apt-get install mtail)");
    return;
  }
  const mtailLog = join(dir, "mtail/lat.log");
  writeFileSync(mtailLog, "");
  const mtailPort = await freePort();
  const mtail = spawn("mtail", ["--progs", join(options.root, "bench/etl.mtail"), "--logs", mtailLog, "--address", "127.0.0.1", "--port", String(mtailPort), "--logtostderr"], {
    stdio: "ignore",
  });
  try {
    await waitFor(`http://127.0.0.1:${mtailPort}/metrics`, mtail);
    const theirs = await sampleLatency(mtailLog, `http://127.0.0.1:${mtailPort}/metrics`, samples);
    options.note("append → /metrics, mtail (defaults)", describe(theirs));
  } finally {
    mtail.kill("SIGTERM");
  }
}

/** Milliseconds from each append to the first `/metrics` that counts it. */
async function sampleLatency(log: string, url: string, samples: number): Promise<number[]> {
  const latencies: number[] = [];
  // The first line also lets the reader see the file at all; it is not timed.
  let expected = (await filesTotal(url)) + 1;
  appendFileSync(log, line(0));
  await until(url, expected, 10_000);
  for (let i = 1; i <= samples; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
    expected += 1;
    const started = performance.now();
    appendFileSync(log, line(i));
    await until(url, expected, 10_000);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

function line(i: number): string {
  const event = { v: 1, ts: new Date().toISOString(), level: "info", event: "file_processed", pipeline: "lat", file: `f${i}.csv`, records: 1, duration_ms: 5 };
  return JSON.stringify(event) + "\n";
}

async function until(url: string, expected: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await filesTotal(url)) < expected) {
    if (performance.now() > deadline) throw new Error(`${url} never counted ${expected} files`);
    // A short pause, not a tight loop: scrapes must not starve the reader they measure.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function filesTotal(url: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return Number(FILES.exec(text)?.[1] ?? 0);
}

function describe(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(1);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (${sorted.length} events)`;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** As tests/harness.ts's (which `deno check` of bench/ cannot take: its `import.meta.dirname`). */
