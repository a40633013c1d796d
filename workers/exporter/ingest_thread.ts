/**
 * Worker thread of the exporter's catch-up ({@link ./bulk_ingest.ts}): ingests
 * the blocks of complete lines it is sent, each into a fresh state, and posts
 * the results back for the main thread to merge in file order.
 *
 * Runs under `node:worker_threads` on Node and Deno; bundled as
 * `dist/ingest-thread.mjs` next to `dist/exporter.mjs`.
 *
 * Protocol: posts {@linkcode IngestWorkerReady} once loaded, then answers
 * each {@linkcode IngestWorkerRequest} with an {@linkcode IngestWorkerReply}
 * of the same `id`.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * const worker = new Worker(new URL("./ingest_thread.ts", import.meta.url));
 * worker.postMessage({ id: 1, bytes: buffer, byteOffset: 0, byteLength: buffer.byteLength, maxLineBytes: 65536 }, [buffer]);
 * worker.on("message", (reply) => console.log(reply));
 * ```
 * @module
 */
import { parentPort } from "node:worker_threads";
import { type BlockResult, ingestBlock, type IngestBlockOptions } from "../../lib/etl/ingest_block.ts";
import type { IngestLimits } from "../../lib/etl/limits.ts";

/**
 * A block to ingest: `byteLength` bytes of `bytes` from `byteOffset`, which
 * end with a newline. `bytes` is transferred, not copied.
 *
 * @example
 * ```ts
 * const request: IngestWorkerRequest = { id: 7, bytes: buffer, byteOffset: 0, byteLength: 4096, maxLineBytes: 65536 };
 * ```
 */
export interface IngestWorkerRequest {
  id: number;
  bytes: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  maxLineBytes: number;
  /** How many bad lines to describe; see {@linkcode BlockResult.badLines}. */
  maxBadLines?: number;
  /** See {@linkcode IngestBlockOptions}. */
  limits?: IngestLimits;
  nowMs?: number;
}

/**
 * The answer to the request of the same `id`: its result, or why it failed,
 * with the request's buffer transferred back to be used again.
 *
 * @example
 * ```ts
 * const reply: IngestWorkerReply = { id: 7, error: "RangeError: …", bytes: buffer };
 * ```
 */
export type IngestWorkerReply =
  | { id: number; result: BlockResult; bytes: ArrayBuffer }
  | { id: number; error: string; bytes: ArrayBuffer };

/**
 * Sent once the worker's code is loaded: before it, a worker that fails to
 * load (a bundle missing, a runtime that cannot read the file) has taken no work.
 *
 * @example
 * ```ts
 * worker.once("message", (message: IngestWorkerReady) => message.ready); // true
 * ```
 */
export interface IngestWorkerReady {
  ready: true;
}

/**
 * Answers one request; what the worker runs for each message.
 *
 * @example
 * ```ts
 * const reply = handleRequest({ id: 1, bytes: new TextEncoder().encode("{}\n").buffer, byteOffset: 0, byteLength: 3, maxLineBytes: 1024 });
 * "result" in reply && reply.result.state.lines.rejected; // 1
 * ```
 */
export function handleRequest(request: IngestWorkerRequest): IngestWorkerReply {
  try {
    const bytes = new Uint8Array(request.bytes, request.byteOffset, request.byteLength);
    const result = ingestBlock(bytes, request.maxLineBytes, {
      maxBadLines: request.maxBadLines,
      limits: request.limits,
      nowMs: request.nowMs,
    });
    return { id: request.id, result, bytes: request.bytes };
  } catch (error) {
    return { id: request.id, error: String((error as Error)?.stack ?? error), bytes: request.bytes };
  }
}

// Imported by the main thread for its types only (erased), so this runs in workers alone.
const port = parentPort;
if (port !== null) {
  port.on("message", (request: IngestWorkerRequest) => {
    const reply = handleRequest(request);
    // The result holds nothing of the bytes: their buffer goes back for the next chunk.
    port.postMessage(reply, [reply.bytes]);
  });
  port.postMessage({ ready: true } satisfies IngestWorkerReady);
}
