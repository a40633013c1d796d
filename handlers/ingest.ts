/**
 * `POST /api/v1/events`: events pushed by jobs that run elsewhere. The body is
 * NDJSON (`application/x-ndjson`) or a JSON array (`application/json`); each
 * event is checked on its own against the log contract and the good ones are
 * appended by the sink, durably, before the answer:
 *
 * - 200 all taken (duplicates included), 207 some taken and some rejected,
 *   400 none taken; the body is `{accepted, duplicates, rejected: [{index, reason}]}`;
 * - 401 without the bearer token or with a wrong one, 413 over the body limit,
 *   415 another content type, 429 + `Retry-After` when the write queue is full,
 *   503 when the log cannot be written: never a 2xx for events not on disk.
 *
 * @example
 * ```ts
 * import { ingestHandler } from "./ingest.ts";
 * app.post("/api/v1/events", ingestHandler({ sink, verifyToken, maxBodyBytes: 1 << 20, maxLineBytes: 65536 }));
 * ```
 * @module
 */
import type { Context, Handler } from "hono";
import { parsePushBatch, type PushedEvent, type PushFormat } from "../lib/ingest/push_batch.ts";
import { isJsonContentType } from "./json_body.ts";

/** The path the endpoint is served on. */
export const INGEST_PATH = "/api/v1/events";

/** Seconds a client is asked to wait when the write queue is full. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;

/** What the handler appends to; throws `PushQueueFull` (429) or anything else (503). */
export interface IngestSink {
  append(events: readonly PushedEvent[]): Promise<{ accepted: number; duplicates: number[] }>;
}

/** Options of {@linkcode ingestHandler}. */
export interface IngestHandlerOptions {
  sink: IngestSink;
  /** Whether the presented bearer token is the one. */
  verifyToken: (token: string) => boolean;
  /** Whether an error of `sink.append` means "queue full, retry later". */
  isQueueFull: (error: unknown) => boolean;
  maxBodyBytes: number;
  maxLineBytes: number;
  now?: () => number;
}

function formatOf(contentType: string | undefined): PushFormat | null {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-ndjson" || type === "application/jsonl") return "ndjson";
  return isJsonContentType(contentType) ? "json" : null;
}

function bearerOf(c: Context): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
  return match ? match[1]! : null;
}

/** The body, or `null` as soon as it passes `limit` bytes: a chunked body without a length is not read whole first. */
async function readAtMost(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** Builds the handler; see the module notes. */
export function ingestHandler(options: IngestHandlerOptions): Handler {
  const now = options.now ?? Date.now;
  return async (c) => {
    const token = bearerOf(c);
    if (token === null || !options.verifyToken(token)) {
      c.header("WWW-Authenticate", 'Bearer realm="etl-events"');
      return c.json({ error: token === null ? "send the token as Authorization: Bearer <token>" : "wrong token" }, 401);
    }
    const format = formatOf(c.req.header("Content-Type"));
    if (format === null) {
      return c.json({ error: "send NDJSON (Content-Type: application/x-ndjson) or a JSON array (application/json)" }, 415);
    }
    const tooLarge = () => c.json({ error: `body larger than ${options.maxBodyBytes} bytes; send smaller batches` }, 413);
    const declared = Number(c.req.header("Content-Length") ?? "0");
    if (declared > options.maxBodyBytes) return tooLarge();
    const bytes = await readAtMost(c.req.raw, options.maxBodyBytes);
    if (bytes === null) return tooLarge();
    let body: string;
    try {
      body = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return c.json({ error: "body is not UTF-8" }, 400);
    }
    const batch = parsePushBatch(body, format, { maxLineBytes: options.maxLineBytes, nowMs: now() });
    if (batch.bodyError !== undefined) return c.json({ error: batch.bodyError }, 400);
    let outcome: { accepted: number; duplicates: number[] };
    try {
      outcome = await options.sink.append(batch.accepted);
    } catch (error) {
      if (options.isQueueFull(error)) {
        c.header("Retry-After", String(QUEUE_FULL_RETRY_AFTER_SECONDS));
        return c.json({ error: "the write queue is full; retry after Retry-After seconds" }, 429);
      }
      return c.json({ error: `events not stored: ${(error as Error).message}` }, 503);
    }
    const result = { accepted: outcome.accepted, duplicates: outcome.duplicates.length, rejected: batch.rejected };
    const taken = outcome.accepted + outcome.duplicates.length;
    if (taken === 0) return c.json({ ...result, error: batch.rejected.length === 0 ? "no events in the body" : "no event was taken" }, 400);
    return c.json(result, batch.rejected.length === 0 ? 200 : 207);
  };
}
