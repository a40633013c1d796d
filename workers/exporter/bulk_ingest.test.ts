/**
 * The bulk catch-up against the oracles: its state must equal a recount of
 * the logs (read in file order), whatever the chunk size, the number of
 * workers or the positions it resumes from; and bulk catch-up followed by
 * the tailer must end where the tailer alone ends.
 */
import { appendFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ingestLine } from "../../lib/etl/ingest.ts";
import { type BadLine, ingestBlock } from "../../lib/etl/ingest_block.ts";
import { recount } from "../../tools/recount.ts";
import { createIngestState, type IngestState } from "../../lib/etl/state.ts";
import type { BulkReadOptions } from "./bulk_ingest.ts";
import { counterSamples, runWorker } from "../../tests/harness.ts";
import type { IngestWorkerRequest } from "./ingest_thread.ts";
import { FINGERPRINT_BYTES } from "./log_stream.ts";
import { createTailer, type FilePosition } from "./tailer.ts";

// Node cannot start a worker from TypeScript source: the tests use the bundle (built by the global setup).
const WORKER_URL = new URL("../../dist/ingest-thread.mjs", import.meta.url);
const T0 = Date.UTC(2026, 10, 23, 10);
/** Events are 130–190 bytes; the long lines of {@linkcode logText} are longer. */
const MAX = 200;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "bulk-ingest-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `count` lines: mostly events with fractional durations, some bad, some over {@linkcode MAX} bytes. */
function logText(count: number, seed = 0): string {
  let text = "";
  for (let i = 0; i < count; i++) {
    const n = i + seed;
    const ts = new Date(T0 + n * 137).toISOString();
    if (n % 11 === 5) text += "not json\n";
    else if (n % 13 === 7) text += `{"ts":"${ts}","why":"${"z".repeat(MAX)}"}\n`;
    else if (n % 17 === 3) text += "\n";
    else if (n % 3 === 2) {
      text += JSON.stringify({ ts, level: "error", event: "file_failed", pipeline: "etl", file: "f", error_type: "disk_full", records: n, duration_ms: n / 10, message: "ü" }) + "\n";
    } else {
      text += JSON.stringify({ ts, level: "info", event: "file_processed", pipeline: n % 2 ? "etl" : "b", file: "f", records: n, duration_ms: n * 10.1 }) + "\n";
    }
  }
  return text;
}

/** A catch-up, as the exporter starts with: the reader's poll, parsing on worker threads. */
async function bulk(options: BulkReadOptions & { state?: IngestState; positions?: Record<string, FilePosition>; maxLineBytes?: number } = {}) {
  const state = options.state ?? createIngestState();
  const tailer = createTailer({ dir, state, positions: options.positions, maxLineBytes: options.maxLineBytes ?? MAX });
  try {
    await tailer.catchUp({ workerUrl: WORKER_URL, minWorkerBytes: 0, ...options });
    return { state, positions: tailer.positions(), stats: tailer.stats };
  } finally {
    await tailer.close();
  }
}

const position = (path: string, offset: number): FilePosition => {
  const { ino, dev, size } = statSync(path);
  const fingerprint = readFileSync(path).subarray(0, FINGERPRINT_BYTES).toString("base64");
  return { ino, dev, fingerprint, offset, size };
};

describe("catch-up", () => {
  it.each([0, 1, 2])("reads every *.log file and its rotation set, oldest first, as a recount does (%i workers)", async (workers) => {
    const a = logText(300, 0);
    const b = logText(200, 1000) + '{"partial":';
    writeFileSync(join(dir, "b.log"), b);
    writeFileSync(join(dir, "a.log"), a);
    const [c2, c1, c] = [logText(50, 2000), logText(60, 3000), logText(70, 4000)];
    writeFileSync(join(dir, "c.log.1"), c1);
    writeFileSync(join(dir, "c.log"), c);
    writeFileSync(join(dir, "c.log.2"), c2);
    writeFileSync(join(dir, "c.log.3.gz"), "compressed: already read as c.log.3\n");
    mkdirSync(join(dir, "d.log"));
    const { state, positions } = await bulk({ workers, chunkBytes: 4096 });
    expect(state).toEqual(recount([a, b, c2, c1, c], { maxLineBytes: MAX }));
    expect(positions).toEqual({
      [join(dir, "a.log")]: position(join(dir, "a.log"), Buffer.byteLength(a)),
      [join(dir, "b.log")]: position(join(dir, "b.log"), Buffer.byteLength(b) - '{"partial":'.length),
      [join(dir, "c.log.2")]: position(join(dir, "c.log.2"), Buffer.byteLength(c2)),
      [join(dir, "c.log.1")]: position(join(dir, "c.log.1"), Buffer.byteLength(c1)),
      [join(dir, "c.log")]: position(join(dir, "c.log"), Buffer.byteLength(c)),
    });
  });

  it("gives the same state for a chunk boundary at every position, with and without workers", async () => {
    const text = logText(40) + "x".repeat(MAX + 10) + "\n" + logText(10, 7) + "tail";
    writeFileSync(join(dir, "etl.log"), text);
    const expected = recount(text, { maxLineBytes: MAX });
    expect(expected.lines).toEqual({ parsed: 39, malformed: 5, rejected: 0, too_long: 5 });
    const offset = Buffer.byteLength(text) - 4;
    for (let chunkBytes = 1; chunkBytes <= MAX + 20; chunkBytes++) {
      const { state, positions } = await bulk({ workers: 0, chunkBytes });
      expect(state, `chunkBytes ${chunkBytes}`).toEqual(expected);
      expect(positions[join(dir, "etl.log")]!.offset).toBe(offset);
    }
    for (const chunkBytes of [1, 64, 97, MAX + 1, 1000]) {
      // Workers and this thread get the same blocks; enough that a few sizes show the merges right.
      const { state } = await bulk({ workers: 2, chunkBytes });
      expect(state, `chunkBytes ${chunkBytes}`).toEqual(expected);
    }
  });

  it.each([0, 2])("skips a 5 MB line with bounded memory and counts it once (%i workers)", async (workers) => {
    const before = logText(100);
    const after = logText(100, 3);
    const text = before + "q".repeat(5_000_000) + "\n" + after + "r".repeat(3_000_000);
    writeFileSync(join(dir, "etl.log"), text);
    const { state, positions } = await bulk({ workers, chunkBytes: 64 * 1024, maxLineBytes: 1024 });
    expect(state).toEqual(recount(text, { maxLineBytes: 1024 }));
    expect(state.lines.too_long).toBe(1);
    // The unterminated 3 MB line is not consumed: the tailer starts at it.
    expect(positions[join(dir, "etl.log")]!.offset).toBe(Buffer.byteLength(text) - 3_000_000);
  });

  it("resumes from saved positions, then hands over to the tailer without a line lost or counted twice", async () => {
    const path = join(dir, "etl.log");
    const part1 = logText(100);
    writeFileSync(path, part1 + "{\"half");
    const first = await bulk({ workers: 2, chunkBytes: 1000 });
    const part2 = "\":1}\n" + logText(300, 100);
    appendFileSync(path, part2);
    const second = await bulk({ state: first.state, positions: first.positions, workers: 2, chunkBytes: 1000 });
    expect(second.state).toEqual(recount(part1 + "{\"half" + part2, { maxLineBytes: MAX }));

    const tailer = createTailer({ dir, state: second.state, positions: second.positions, maxLineBytes: MAX });
    const part3 = logText(50, 400);
    appendFileSync(path, part3);
    await tailer.poll();
    await tailer.close();
    expect(second.state).toEqual(recount(part1 + "{\"half" + part2 + part3, { maxLineBytes: MAX }));
  });

  it("resumes from a checkpoint whatever happened while down, exactly as a poll does", async () => {
    const [a, b, c, d] = ["a.log", "b.log", "c.log", "d.log"].map((name) => join(dir, name)) as [string, string, string, string];
    writeFileSync(a, logText(30, 0));
    writeFileSync(b, logText(30, 100));
    writeFileSync(c, logText(30, 200));
    writeFileSync(d, logText(30, 300));
    const first = await bulk({ workers: 0 });
    // While down: more lines everywhere; b rotated twice; c truncated; d moved to e.log.
    for (const path of [a, b, c, d]) appendFileSync(path, logText(10, 600));
    renameSync(b, b + ".1");
    writeFileSync(b, logText(20, 500));
    renameSync(b + ".1", b + ".2");
    renameSync(b, b + ".1");
    writeFileSync(b, logText(20, 700));
    truncateSync(c, 100);
    renameSync(d, join(dir, "e.log"));

    const alone = createTailer({ dir, state: structuredClone(first.state), positions: first.positions, maxLineBytes: MAX });
    await alone.poll();
    await alone.close();
    const caught = await bulk({ state: structuredClone(first.state), positions: first.positions, workers: 2, chunkBytes: 256 });
    expect(caught.state).toEqual(alone.state);
    expect(caught.positions).toEqual(alone.positions());
    expect(caught.stats).toEqual(alone.stats);
    expect(caught.stats).toMatchObject({ truncations: 1, restoreMisses: 0 });
  });

  it("reads a file and its hard link once", async () => {
    const text = logText(50);
    writeFileSync(join(dir, "a.log"), text);
    linkSync(join(dir, "a.log"), join(dir, "b.log"));
    const { state, positions } = await bulk({ workers: 0 });
    expect(state).toEqual(recount(text, { maxLineBytes: MAX }));
    expect(Object.keys(positions)).toEqual([join(dir, "a.log")]);
  });

  it("has a bundled worker that answers a block as ingestBlock does", async () => {
    const worker = new Worker(WORKER_URL);
    try {
      const replies: unknown[] = [];
      const done = new Promise<void>((resolve) => worker.on("message", (m) => replies.push(m) === 2 && resolve()));
      const bytes = new TextEncoder().encode("xx" + logText(20));
      const expected = ingestBlock(bytes.subarray(2), MAX);
      const length = bytes.length;
      const request: IngestWorkerRequest = { id: 42, bytes: bytes.buffer, byteOffset: 2, byteLength: length - 2, maxLineBytes: MAX };
      worker.postMessage(request, [bytes.buffer]);
      await done;
      // The buffer comes back, to be used for another chunk.
      expect(replies).toEqual([{ ready: true }, { id: 42, result: expected, bytes: expect.any(ArrayBuffer) }]);
      expect((replies[1] as { bytes: ArrayBuffer }).bytes.byteLength).toBe(length);
    } finally {
      await worker.terminate();
    }
  });

  it("parses the blocks of a worker that dies here, from the file", async () => {
    const text = logText(400);
    writeFileSync(join(dir, "etl.log"), text);
    const dying = join(dir, "dying-worker.mjs");
    writeFileSync(dying, 'import { parentPort } from "node:worker_threads";\nparentPort.postMessage({ ready: true });\nparentPort.on("message", () => process.exit(3));\n');
    const { state } = await bulk({ workers: 2, chunkBytes: 1024, workerUrl: pathToFileURL(dying) });
    expect(state).toEqual(recount(text, { maxLineBytes: MAX }));
  });

  it("replaces a worker that runs out of its capped old generation by an uncapped one, with the same counters", async () => {
    let text = "";
    for (let i = 0; i < 3000; i++) {
      const ts = new Date(T0 + i * 137).toISOString();
      text += JSON.stringify({ ts, level: "info", event: "file_processed", pipeline: `p${i % 300}`, file: "f", records: i, duration_ms: i / 10 }) + "\n";
    }
    writeFileSync(join(dir, "etl.log"), text);
    let workers = -1;
    const { state } = await bulk({
      workers: 1,
      chunkBytes: 64 * 1024,
      workerOldGenerationMb: 1,
      onFinish: (summary) => (workers = summary.workers),
    });
    expect(state).toEqual(recount(text, { maxLineBytes: MAX }));
    expect(Object.keys(state.pipelines)).toHaveLength(300);
    // The capped worker could not even start; its replacement parsed.
    expect(workers).toBe(1);
  });

  it("parses in this thread when no worker can start: module missing, or failing to load", async () => {
    const text = logText(200);
    writeFileSync(join(dir, "etl.log"), text);
    const broken = join(dir, "broken-worker.mjs");
    writeFileSync(broken, 'throw new Error("cannot load");\n');
    for (const workerUrl of [new URL("./no-such-worker.mjs", WORKER_URL), pathToFileURL(broken)]) {
      const { state } = await bulk({ workers: 2, chunkBytes: 512, workerUrl });
      expect(state).toEqual(recount(text, { maxLineBytes: MAX }));
    }
  });

  it("describes a bounded number of bad lines per block, in file order", async () => {
    writeFileSync(join(dir, "a.log"), "bad\n".repeat(30) + "x".repeat(MAX + 100) + "\n");
    writeFileSync(join(dir, "b.log"), "{}\n");
    const seen: [BadLine["result"], string][] = [];
    const { state } = await bulk({
      workers: 2,
      chunkBytes: 40,
      maxBadLinesPerBlock: 2,
      onBadLine: (line, file) => seen.push([line.result, file.slice(dir.length + 1)]),
    });
    expect(state.lines).toEqual({ parsed: 0, malformed: 30, rejected: 1, too_long: 1 });
    expect(seen.filter(([result]) => result === "malformed").length).toBeLessThan(30);
    expect(seen.slice(-2)).toEqual([["too_long", "a.log"], ["rejected", "b.log"]]);
  });

  it("finds nothing in a directory that does not exist yet, and keeps the saved positions", async () => {
    rmSync(dir, { recursive: true });
    const saved = { [join(dir, "a.log")]: { ino: 5, dev: 6, fingerprint: "e30K", offset: 7, size: 9 } };
    const { positions, stats } = await bulk({ positions: saved });
    expect(positions).toEqual(saved);
    expect(stats.restoreMisses).toBe(0);
  });

  it("runs its workers under Deno from the sources and under Node from the bundle, with the same counters", async () => {
    // Over the threshold under which no worker is started.
    mkdirSync(join(dir, "logs"));
    let text = "";
    for (let seed = 0; Buffer.byteLength(text) < 9 * 1024 * 1024; seed += 1000) text += logText(1000, seed);
    writeFileSync(join(dir, "logs/etl.log"), text);
    const args = ["--data-dir", dir, "--once"];
    // The exporter logs how many workers parsed; bad lines are logged too, as warnings.
    const env = { ETL_LOG_LEVEL: "info" };
    const [deno, node, single] = await Promise.all([
      runWorker("exporter", args, env, "deno"),
      runWorker("exporter", args, env, "node"),
      runWorker("exporter", [...args, "--ingest-workers", "0"], env, "node"),
    ]);
    expect([deno.code, node.code, single.code]).toEqual([0, 0, 0]);
    for (const [run, workers] of [[deno, 2], [node, 2], [single, 0]] as const) {
      const lines = run.stderr.trim().split("\n").map((line) => JSON.parse(line) as { level: string; properties: Record<string, unknown> });
      expect(lines.filter((line) => line.level !== "WARN" && line.level !== "INFO")).toEqual([]);
      expect(lines.find((line) => "workers" in line.properties)?.properties).toMatchObject({ files: 1, workers });
    }
    const expected = recount(text, { maxLineBytes: 65_536 });
    const samples = counterSamples(node.stdout);
    expect(samples['etl_records_total{pipeline="etl"}']).toBe(expected.pipelines.etl!.recordsTotal);
    expect(samples['etl_file_processing_duration_seconds_sum{pipeline="etl"}']).toBe(expected.pipelines.etl!.durationSumUs / 1e6);
    expect(counterSamples(deno.stdout)).toEqual(samples);
    expect(counterSamples(single.stdout)).toEqual(samples);
  }, 60_000);

  it("rejects nonsense options", async () => {
    await expect(bulk({ chunkBytes: 0 })).rejects.toThrow(RangeError);
    await expect(bulk({ workers: -1 })).rejects.toThrow(RangeError);
  });
});

describe("limits in the reader", () => {
  /** Lines of 30 pipelines, some dated past the allowed skew, some a little ahead, one before 2000. */
  function boundedLog(count: number, seed: number, now: number): string {
    let text = "";
    for (let i = 0; i < count; i++) {
      const n = i + seed;
      const offset = n % 19 === 4 ? 10 * 60_000 : n % 7 === 1 ? 60_000 : -n * 50;
      const ts = n === seed + 3 ? "1999-12-31T23:59:59.000Z" : new Date(now + offset).toISOString();
      text += JSON.stringify({ ts, level: "info", event: "file_processed", pipeline: `run-${n % 30}`, file: "f", records: n, duration_ms: n }) + "\n";
    }
    return text;
  }

  it.each([0, 2])("drops past the pipeline cap and the clock as a line-by-line read does, in the catch-up (%i workers) and then tailing", async (workers) => {
    const now = T0 + 3_600_000;
    const limits = { maxPipelines: 12, maxAheadMs: 5 * 60_000 };
    const first = boundedLog(400, 0, now);
    const later = boundedLog(100, 400, now);
    writeFileSync(join(dir, "a.log"), first);

    const expected = createIngestState();
    for (const line of (first + later).split("\n").slice(0, -1)) ingestLine(expected, line, limits, now);
    expected.bytesRead = Buffer.byteLength(first + later);
    expect(Object.keys(expected.pipelines).length).toBe(12);
    expect(Object.values(expected.dropped).every((n) => n > 0)).toBe(true);

    const state = createIngestState();
    const tailer = createTailer({ dir, state, maxLineBytes: MAX, limits, clock: () => now });
    try {
      await tailer.catchUp({ workerUrl: WORKER_URL, minWorkerBytes: 0, chunkBytes: 1024, workers });
      appendFileSync(join(dir, "a.log"), later);
      await tailer.poll();
    } finally {
      await tailer.close();
    }
    expect(state).toEqual(expected);
    // Nothing a line carried moved a time past the clock.
    expect(Math.max(...Object.values(state.pipelines).map((p) => p.lastEventMs))).toBe(now);
  });
});
