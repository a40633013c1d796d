/**
 * The HTTP sink of the emitter, for a job that runs away from the exporter:
 * lines are batched and pushed to `POST /api/v1/events` with the bearer
 * token. A batch is retried, with exponential backoff and full jitter, on a
 * network error, a timeout, 429 and 5xx (honouring `Retry-After`), never on
 * another 4xx. Every event gets an `event_id` (UUIDv7) before its first
 * send, so a retry after a lost answer is counted once by the exporter.
 *
 * @example
 * ```ts
 * import { createEventEmitter } from "../../lib/etl/emitter.ts";
 * import { createHttpSink } from "./http_sink.ts";
 * const sink = createHttpSink({ url: "http://exporter:8083/api/v1/events", token: process.env.ETL_INGEST_TOKEN! });
 * const etl = createEventEmitter({ pipeline: "orders", write: sink.write });
 * etl.started();
 * await sink.close(); // flushes what is left
 * ```
 * @module
 */

/** Options of {@linkcode createHttpSink}. */
export interface HttpSinkOptions {
  /** The exporter's `…/api/v1/events`. */
  url: string;
  token: string;
  /** Events per request. Default 100. */
  batchSize?: number;
  /** A partial batch waits at most this long. Default 1000 ms. */
  flushMs?: number;
  /** Sends of one batch before it is given up. Default 8. */
  maxAttempts?: number;
  /** First backoff; doubled per attempt, up to `maxDelayMs`. Defaults 200 ms and 30 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** One request's limit. Default 10 s. */
  timeoutMs?: number;
  /** Flush when the process is about to exit (Node's `beforeExit`). Default true. */
  flushOnExit?: boolean;
  /** Told about each given-up batch and each rejected event; default: standard error. */
  onProblem?: (message: string) => void;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A sink: `write` takes the emitter's lines. */
export interface HttpSink {
  write: (line: string) => void;
  /** Sends everything written so far; rejects when a batch was given up. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A batch that was refused (4xx) or failed every attempt. */
export class PushFailedError extends Error {
  override name = "PushFailedError";
}

/** A UUIDv7: 48 bits of milliseconds, then random bits; sorts by time. */
export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = nowMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The wait before attempt `attempt + 1`: `Retry-After` when given, else full-jitter exponential backoff. */
export function retryDelayMs(attempt: number, retryAfter: string | null, options: { baseDelayMs: number; maxDelayMs: number; random: () => number }): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, options.maxDelayMs);
  return Math.floor(options.random() * Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt));
}

/** Whether an answer is worth retrying: 429 and 5xx. */
export const isRetryableStatus = (status: number) => status === 429 || status >= 500;

/** Opens the sink; see the module notes. */
export function createHttpSink(options: HttpSinkOptions): HttpSink {
  const batchSize = options.batchSize ?? 100;
  const backoff = { baseDelayMs: options.baseDelayMs ?? 200, maxDelayMs: options.maxDelayMs ?? 30_000, random: options.random ?? Math.random };
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const problem = options.onProblem ?? ((message: string) => console.error(`etl events: ${message}`));
  let buffer: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending: Promise<void> = Promise.resolve();
  let failure: Error | undefined;

  const send = async (lines: string[]) => {
    const body = lines.join("\n") + "\n";
    const attempts = options.maxAttempts ?? 8;
    let last = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      let retryAfter: string | null = null;
      try {
        const response = await doFetch(options.url, {
          method: "POST",
          body,
          headers: { Authorization: `Bearer ${options.token}`, "Content-Type": "application/x-ndjson" },
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        const text = await response.text();
        if (response.ok) {
          const result = JSON.parse(text) as { rejected?: { index: number; reason: string }[] };
          for (const r of result.rejected ?? []) problem(`event ${r.index} of a batch rejected: ${r.reason}`);
          return;
        }
        if (!isRetryableStatus(response.status)) throw new PushFailedError(`push refused with ${response.status}: ${text.slice(0, 500)}`);
        last = `${response.status} ${text.slice(0, 200)}`;
        retryAfter = response.headers.get("Retry-After");
      } catch (error) {
        if (error instanceof PushFailedError) throw error;
        last = (error as Error).message;
      }
      if (attempt + 1 < attempts) await sleep(retryDelayMs(attempt, retryAfter, backoff));
    }
    throw new PushFailedError(`push of ${lines.length} events given up after ${attempts} attempts: ${last}`);
  };

  /** Moves the buffer into the send chain; failures are kept for the next `flush`. */
  const queueBuffer = () => {
    clearTimeout(timer);
    timer = undefined;
    while (buffer.length > 0) {
      const lines = buffer.splice(0, batchSize);
      // One batch at a time, in order: a job's events reach the log as it wrote them.
      sending = sending.then(() => send(lines)).catch((error: Error) => {
        failure ??= error;
        problem(error.message);
      });
    }
  };

  const flush = async (): Promise<void> => {
    queueBuffer();
    await sending;
    const error = failure;
    failure = undefined;
    if (error) throw error;
  };

  const onExit = () => void flush().catch(() => (process.exitCode ||= 1));
  if (options.flushOnExit ?? true) process.once("beforeExit", onExit);

  return {
    write(line) {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event.event_id === undefined) event.event_id = uuidv7();
      buffer.push(JSON.stringify(event));
      if (buffer.length >= batchSize) queueBuffer();
      else if (timer === undefined) {
        timer = setTimeout(queueBuffer, options.flushMs ?? 1000);
        // Not what keeps a finished job alive: `beforeExit` flushes instead.
        (timer as { unref?: () => void }).unref?.();
      }
    },
    flush,
    async close() {
      process.removeListener("beforeExit", onExit);
      await flush();
    },
  };
}
