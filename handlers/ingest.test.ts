import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { DedupeWindow } from "../lib/ingest/dedupe_window.ts";
import { ingestTokenHash, ingestTokenMatches } from "../lib/ingest/token.ts";
import { createPushSink, PushQueueFull, type PushSink } from "../workers/exporter/push_sink.ts";
import { INGEST_PATH, ingestHandler, type IngestSink } from "./ingest.ts";

const NOW = Date.UTC(2026, 10, 23, 10);
const TOKEN = "a-test-token-of-some-length-000000000000000";
const HASH = ingestTokenHash(TOKEN);
const dirs: string[] = [];
const sinks: PushSink[] = [];
afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const event = (extra: Record<string, unknown> = {}) => ({
  ts: new Date(NOW - 1000).toISOString(),
  level: "info",
  pipeline: "orders",
  event: "heartbeat",
  ...extra,
});
const ndjson = (...events: unknown[]) => events.map((e) => JSON.stringify(e)).join("\n") + "\n";

function appWith(sink?: IngestSink, maxBodyBytes = 4096) {
  const dir = mkdtempSync(join(tmpdir(), "etl-ingest-"));
  dirs.push(dir);
  const real = createPushSink({ dir, maxQueuedEvents: 1000, dedupe: new DedupeWindow({ windowMs: 86_400_000, maxIds: 1000 }), now: () => NOW });
  sinks.push(real);
  const app = new Hono().post(
    INGEST_PATH,
    ingestHandler({
      sink: sink ?? real,
      verifyToken: (token) => ingestTokenMatches(token, HASH),
      isQueueFull: (error) => error instanceof PushQueueFull,
      maxBodyBytes,
      maxLineBytes: 512,
      now: () => NOW,
    }),
  );
  const post = (body: string | ReadableStream, headers: Record<string, string> = {}) =>
    app.request(INGEST_PATH, {
      method: "POST",
      body,
      ...(typeof body === "string" ? {} : { duplex: "half" }),
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/x-ndjson", ...headers },
    });
  const pushed = () => {
    try {
      return readFileSync(join(dir, "pushed-orders.log"), "utf8");
    } catch {
      return "";
    }
  };
  return { post, pushed, dir };
}

describe("POST /api/v1/events", () => {
  it("takes an NDJSON batch: 200, appended to pushed-<pipeline>.log, unknown fields kept", async () => {
    const { post, pushed } = appWith();
    const response = await post(ndjson(event(), event({ custom: "kept" })));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    expect(pushed()).toBe(ndjson(event(), event({ custom: "kept" })));
  });

  it("takes a JSON array", async () => {
    const { post, pushed } = appWith();
    const response = await post(JSON.stringify([event()]), { "Content-Type": "application/json; charset=utf-8" });
    expect(response.status).toBe(200);
    expect(pushed()).toBe(ndjson(event()));
  });

  it("answers 401 without a token or with a wrong one, and writes nothing", async () => {
    const { post, pushed } = appWith();
    const none = await post(ndjson(event()), { Authorization: "" });
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect((await post(ndjson(event()), { Authorization: "Bearer wrong" })).status).toBe(401);
    expect(pushed()).toBe("");
  });

  it("answers 415 for another content type and 413 over the body limit", async () => {
    const { post } = appWith(undefined, 1024);
    expect((await post(ndjson(event()), { "Content-Type": "text/plain" })).status).toBe(415);
    const big = ndjson(...Array.from({ length: 20 }, () => event()));
    expect((await post(big)).status).toBe(413);
    // Without a Content-Length (chunked), counted while read.
    const chunked = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } });
    const stream = await post(chunked);
    expect(stream.status).toBe(413);
  });

  it("takes the good lines of a mixed batch (207) and names each bad one", async () => {
    const { post, pushed } = appWith();
    const future = event({ ts: new Date(NOW + 6 * 60_000).toISOString() });
    const late = event({ ts: new Date(NOW - 5 * 3_600_000).toISOString() });
    const long = event({ pad: "x".repeat(600) });
    const response = await post(["not json", JSON.stringify(event()), JSON.stringify(future), JSON.stringify(long), JSON.stringify(late), "{\"event\":\"heartbeat\"}"].join("\n"));
    expect(response.status).toBe(207);
    const body = (await response.json()) as { accepted: number; rejected: { index: number; reason: string }[] };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => [r.index, r.reason.split(":")[0]])).toEqual([
      [0, "malformed"],
      [2, "rejected"],
      [3, "too_long"],
      [5, "rejected"],
    ]);
    expect(body.rejected[1]!.reason).toContain("future");
    expect(pushed()).toBe(ndjson(event(), late));
  });

  it("answers 400 when nothing was taken, and for a JSON body that is no array", async () => {
    const { post, pushed } = appWith();
    expect((await post("nope\n")).status).toBe(400);
    expect((await post("")).status).toBe(400);
    expect((await post(JSON.stringify(event()), { "Content-Type": "application/json" })).status).toBe(400);
    expect(pushed()).toBe("");
  });

  it("counts a repeated event_id as a duplicate, within a batch and across batches", async () => {
    const { post, pushed } = appWith();
    const a = event({ event_id: "id-a" });
    const first = await post(ndjson(a, a, event({ event_id: "id-b" })));
    expect(await first.json()).toEqual({ accepted: 2, duplicates: 1, rejected: [] });
    const retry = await post(ndjson(a, event({ event_id: "id-b" })));
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    expect(pushed().trim().split("\n")).toHaveLength(2);
  });

  it("appends a racing event_id once (group commit decides in order)", async () => {
    const { post, pushed } = appWith();
    const a = event({ event_id: "same" });
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(ndjson(a))));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { accepted: number; duplicates: number }[];
    expect(bodies.reduce((sum, b) => sum + b.accepted, 0)).toBe(1);
    expect(bodies.reduce((sum, b) => sum + b.duplicates, 0)).toBe(7);
    expect(pushed()).toBe(ndjson(a));
  });

  it("answers 429 with Retry-After when the queue is full", async () => {
    const full: IngestSink = { append: () => Promise.reject(new PushQueueFull("full")) };
    const response = await appWith(full).post(ndjson(event()));
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("1");
  });

  it("answers 503 when the log cannot be written, and the id stays free for the retry", async () => {
    const { post, pushed, dir } = appWith();
    // The log directory gone: a real failed open, as a full or read-only disk would give.
    rmSync(dir, { recursive: true });
    const a = event({ event_id: "retry-me" });
    const failed = await post(ndjson(a));
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { error: string }).error).toMatch(/^events not stored: .*ENOENT/);
    mkdirSync(dir);
    const retry = await post(ndjson(a));
    expect(await retry.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect(pushed()).toBe(ndjson(a));
  });
});
