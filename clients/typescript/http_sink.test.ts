import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { INGEST_PATH, ingestHandler } from "../../handlers/ingest.ts";
import { createEventEmitter } from "../../lib/etl/emitter.ts";
import { DedupeWindow } from "../../lib/ingest/dedupe_window.ts";
import { ingestTokenHash, ingestTokenMatches } from "../../lib/ingest/token.ts";
import { createPushSink, PushQueueFull, type PushSink } from "../../workers/exporter/push_sink.ts";
import { createHttpSink, retryDelayMs, uuidv7 } from "./http_sink.ts";

const TOKEN = "client-test-token";
const dirs: string[] = [];
const sinks: PushSink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The real handler and sink, behind a transport that fails as the script says. */
function exporterWith(script: Array<"ok" | "drop-after-write" | "refuse-connection" | 503 | 429>) {
  const dir = mkdtempSync(join(tmpdir(), "etl-client-"));
  dirs.push(dir);
  const sink = createPushSink({ dir, maxQueuedEvents: 10_000, dedupe: new DedupeWindow({ windowMs: 86_400_000, maxIds: 10_000 }) });
  sinks.push(sink);
  const app = new Hono().post(INGEST_PATH, ingestHandler({
    sink, verifyToken: (t) => ingestTokenMatches(t, ingestTokenHash(TOKEN)), isQueueFull: (e) => e instanceof PushQueueFull,
    maxBodyBytes: 1 << 20, maxLineBytes: 65_536,
  }));
  const calls: string[] = [];
  const transport = (async (url: string, init: RequestInit) => {
    const step = script.shift() ?? "ok";
    calls.push(String(step));
    if (step === "refuse-connection") throw new TypeError("fetch failed: ECONNREFUSED");
    if (step === 503 || step === 429) {
      return new Response("{}", { status: step, headers: step === 429 ? { "Retry-After": "0" } : {} });
    }
    const response = await app.request(url, init);
    // The exporter wrote and answered, but the answer never arrived.
    if (step === "drop-after-write") throw new TypeError("fetch failed: socket hang up");
    return response;
  }) as typeof fetch;
  const lines = () => readFileSync(join(dir, "pushed-orders.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  return { transport, calls, lines };
}

const fast = { sleep: async () => {}, flushOnExit: false, onProblem: () => {} };

describe("HTTP sink", () => {
  it("delivers every event exactly once through dropped answers, refused connections, 503 and 429", async () => {
    const exporter = exporterWith(["drop-after-write", "refuse-connection", 503, "ok", 429, "drop-after-write", "ok"]);
    const sink = createHttpSink({ url: `http://x${INGEST_PATH}`, token: TOKEN, batchSize: 3, fetch: exporter.transport, ...fast });
    const etl = createEventEmitter({ pipeline: "orders", write: sink.write });
    for (let i = 0; i < 6; i++) etl.fileProcessed({ file: `f${i}.csv`, records: i, duration_ms: 1 });
    await sink.close();
    expect(exporter.calls).toEqual(["drop-after-write", "refuse-connection", "503", "ok", "429", "drop-after-write", "ok"]);
    const written = exporter.lines();
    expect(written.map((e) => e.file)).toEqual(["f0.csv", "f1.csv", "f2.csv", "f3.csv", "f4.csv", "f5.csv"]);
    expect(new Set(written.map((e) => e.event_id)).size).toBe(6);
  });

  it("never retries a 4xx other than 429, and says so on flush", async () => {
    const exporter = exporterWith([]);
    const sink = createHttpSink({ url: `http://x${INGEST_PATH}`, token: "wrong", fetch: exporter.transport, ...fast });
    createEventEmitter({ pipeline: "orders", write: sink.write }).started();
    await expect(sink.close()).rejects.toThrow(/^push refused with 401/);
    expect(exporter.calls).toEqual(["ok"]);
  });

  it("gives up after maxAttempts", async () => {
    const exporter = exporterWith([503, 503, 503]);
    const sink = createHttpSink({ url: `http://x${INGEST_PATH}`, token: TOKEN, maxAttempts: 3, fetch: exporter.transport, ...fast });
    createEventEmitter({ pipeline: "orders", write: sink.write }).started();
    await expect(sink.close()).rejects.toThrow("push of 1 events given up after 3 attempts: 503");
  });

  it("waits Retry-After when given, else full jitter below the doubled base", () => {
    const o = { baseDelayMs: 200, maxDelayMs: 30_000, random: () => 0.999 };
    expect(retryDelayMs(0, "2", o)).toBe(2000);
    expect(retryDelayMs(3, null, o)).toBe(1598);
    expect(retryDelayMs(20, null, o)).toBe(29_970);
    expect(retryDelayMs(3, null, { ...o, random: () => 0 })).toBe(0);
  });

  it("makes UUIDv7 ids that sort by time", () => {
    const a = uuidv7(1_700_000_000_000);
    expect(a).toMatch(/^018bcfe5-6800-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7(1_700_000_000_001) > a).toBe(true);
  });
});
