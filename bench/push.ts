/**
 * The bench's push endpoint: events per second acknowledged by the exporter
 * (each on disk, fsynced, group commit) for batches of 1, 100 and 1,000 on 1
 * and 8 connections; the p50/p99 of a push of 100 events; the memory of the
 * dedupe window holding 1 million ids.
 *
 * @example
 * ```ts
 * import { measurePush } from "./push.ts";
 * await measurePush({ root: process.cwd(), work: ".bench", note: (k, v) => console.log(k, v) });
 * ```
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DedupeWindow } from "../lib/ingest/dedupe_window.ts";
import { ingestTokenHash } from "../lib/ingest/token.ts";

/** Where to run and where to report. */
export interface PushBenchOptions {
  root: string;
  work: string;
  note: (name: string, value: string) => void;
  /** Seconds per throughput case. Default 3. */
  seconds?: number;
}

const TOKEN = "bench-push-token";

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

let sequence = 0;
function body(size: number): string {
  const ts = new Date().toISOString();
  let text = "";
  for (let i = 0; i < size; i++) {
    text += `{"ts":"${ts}","level":"info","pipeline":"bench","event":"file_processed","file":"f.csv","records":1,"duration_ms":1,"event_id":"b-${sequence++}"}\n`;
  }
  return text;
}

/** Measures and notes; see the module notes. */
export async function measurePush(options: PushBenchOptions): Promise<void> {
  const dir = join(options.work, "push");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hash"), ingestTokenHash(TOKEN));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(options.root, "dist/exporter.mjs")], {
    env: { ...process.env, EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_INGEST: "1", ETL_INGEST_TOKEN_FILE: join(dir, "hash"), ETL_LOG_LEVEL: "error" },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}/api/v1/events`;
  const push = async (text: string) => {
    const response = await fetch(url, { method: "POST", body: text, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/x-ndjson" } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`push answered ${response.status}`);
  };
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => null))?.status === 200) break;
      if (i > 500) throw new Error("the exporter did not get ready");
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = options.seconds ?? 3;
    for (const size of [1, 100, 1000]) {
      for (const connections of [1, 8]) {
        let events = 0;
        const until = performance.now() + seconds * 1000;
        const started = performance.now();
        await Promise.all(Array.from({ length: connections }, async () => {
          while (performance.now() < until) {
            await push(body(size));
            events += size;
          }
        }));
        const rate = events / ((performance.now() - started) / 1000);
        options.note(`push, batches of ${size}, ${connections} connection${connections > 1 ? "s" : ""}`, `${Math.round(rate).toLocaleString("en-US")} events/s`);
      }
    }
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const text = body(100);
      const started = performance.now();
      await push(text);
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
    options.note("push of 100 events (fsynced), one connection", `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
  } finally {
    child.kill("SIGTERM");
  }
  options.note("dedupe window, 1,000,000 ids (36-character UUIDs)", `${dedupeMegabytes().toFixed(0)} MB of heap`);
}

/** The heap the window holds at 1 million ids, measured between two full collections. */
function dedupeMegabytes(): number {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const window = new DedupeWindow({ windowMs: 86_400_000, maxIds: 1_000_000 });
  const now = Date.now();
  // Ids as the server gets them, out of JSON.parse (crypto.randomUUID's strings weigh 4 times more).
  for (let i = 0; i < 1_000_000; i++) window.remember("orders", JSON.parse(`"${crypto.randomUUID()}"`) as string, now);
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  if (window.size !== 1_000_000) throw new Error("the window lost ids");
  return bytes / 1e6;
}
