/**
 * The exporter's catch-up: reads the backlog of its log files on every core.
 * The reader ({@link ./tailer.ts}) decides which files and from where; this
 * reads each one's range in chunks, cuts them after their last complete line
 * with the stream's own {@linkcode LineSplitter} (which carries a partial
 * line, and skips an over-long one, into the next chunk), and hands the
 * blocks of complete lines to worker threads ({@link ./ingest_thread.ts}),
 * reading the next chunk while they parse. Each block is folded into a fresh
 * state; the results are merged into the reader's state strictly in file
 * order with {@linkcode mergeState}, so the state ends exactly as one
 * sequential read would leave it (what `recount` computes).
 *
 * Small backlogs, `workers: 0`, and runtimes where a worker cannot start go
 * through the same blocks and merges in this thread.
 *
 * @example
 * ```ts
 * import { createIngestState } from "../../lib/etl/state.ts";
 * import { createTailer } from "./tailer.ts";
 * const tailer = createTailer({ dir: "data/logs", state: createIngestState(), maxLineBytes: 65536 });
 * await tailer.catchUp({ workers: 2 }); // reads through createBulkReader
 * ```
 * @module
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ingestLine } from "../../lib/etl/ingest.ts";
import { type BadLine, type BlockResult, fitBlock, ingestBlock } from "../../lib/etl/ingest_block.ts";
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from "../../lib/etl/limits.ts";
import { mergeState } from "../../lib/etl/merge_state.ts";
import type { IngestState } from "../../lib/etl/state.ts";
import type { IngestWorkerReply, IngestWorkerRequest } from "./ingest_thread.ts";
import type { LogStream } from "./log_stream.ts";

/**
 * Options of a catch-up ({@linkcode createBulkReader}, `Tailer.catchUp`).
 *
 * @example
 * ```ts
 * const options: BulkReadOptions = { workers: 2, minWorkerBytes: 1 << 20 };
 * ```
 */
export interface BulkReadOptions {
  /** Worker threads to parse with; 0 parses in this thread. Default 2. */
  workers?: number;
  /** Bytes read at a time, the size of a block of work. Default {@linkcode DEFAULT_BULK_CHUNK_BYTES}. */
  chunkBytes?: number;
  /**
   * A smaller backlog is parsed in this thread: starting a worker costs more
   * than it saves. Default {@linkcode DEFAULT_MIN_WORKER_BYTES}.
   */
  minWorkerBytes?: number;
  /** The worker's module; default `ingest_thread.ts` next to this source, or `ingest-thread.mjs` next to the bundle. */
  workerUrl?: URL;
  /**
   * Describes bad lines, e.g. to log them: at most `maxBadLinesPerBlock` per
   * block (the counters count every one), in file order.
   */
  onBadLine?: (line: BadLine, file: string) => void;
  /** Default 10. */
  maxBadLinesPerBlock?: number;
  /** Told, at the end, what was read and by how many threads (e.g. for a log line). */
  onFinish?: (summary: BulkIngestSummary) => void;
  /**
   * Each worker's old generation, in MB, until one runs out of it (then it
   * is replaced by one without this cap). Default {@linkcode DEFAULT_WORKER_OLD_GENERATION_MB}.
   */
  workerOldGenerationMb?: number;
}

/**
 * What a catch-up did.
 *
 * @example
 * ```ts
 * const summary: BulkIngestSummary = { files: 1, bytes: 173_580_916, workers: 2 };
 * ```
 */
export interface BulkIngestSummary {
  /** Files with something new read. */
  files: number;
  /** Bytes of complete lines read. */
  bytes: number;
  /** Worker threads that parsed at least one block; 0 when all was parsed in this thread. */
  workers: number;
}

/**
 * Reads ranges of streams into one state; see {@linkcode createBulkReader}.
 *
 * @example
 * ```ts
 * const reader: BulkReader = await createBulkReader(state, 65536, backlog, { workers: 2 });
 * ```
 */
export interface BulkReader {
  /** Reads `stream` from its `readOffset` to `end`; resolves once all of it is merged into the state. */
  read(stream: LogStream, end: number): Promise<void>;
  /** Stops the workers and reports to `onFinish`. */
  close(): Promise<void>;
}

/**
 * The default of {@linkcode BulkReadOptions.chunkBytes}.
 *
 * @example
 * ```ts
 * await tailer.catchUp({ chunkBytes: DEFAULT_BULK_CHUNK_BYTES / 4 });
 * ```
 */
export const DEFAULT_BULK_CHUNK_BYTES = 1024 * 1024;

/**
 * The default of {@linkcode BulkReadOptions.minWorkerBytes}.
 *
 * @example
 * ```ts
 * await tailer.catchUp({ minWorkerBytes: DEFAULT_MIN_WORKER_BYTES * 2 });
 * ```
 */
export const DEFAULT_MIN_WORKER_BYTES = 8 * 1024 * 1024;

/**
 * A worker's young generation. V8's default (tens of MB per thread) is what
 * made `--once` peak at ~140 MB; parsing makes short-lived garbage only, and
 * 2 MB cost no measurable time on the bench's log (peak RSS ~97 MB).
 */
const WORKER_YOUNG_GENERATION_MB = 2;

/**
 * The default of {@linkcode BulkReadOptions.workerOldGenerationMb}. Each
 * block's fresh state (~40 KB for one pipeline) outlives several scavenges,
 * so it ends in the old generation, which V8 let grow by ~3 MB per worker
 * over the bench's log before collecting it; a small cap makes V8 collect
 * it (peak RSS −4 MB, no measurable time). A worker needs ~7 MB plus its
 * block's state (~40 KB per pipeline of the block): one whose blocks hold
 * hundreds of pipelines runs out, and its replacement runs uncapped.
 *
 * @example
 * ```ts
 * await tailer.catchUp({ workerOldGenerationMb: DEFAULT_WORKER_OLD_GENERATION_MB * 2 });
 * ```
 */
export const DEFAULT_WORKER_OLD_GENERATION_MB = 16;
/** A worker not loaded by then is given up (parsing goes on without it) rather than waited for. */
const WORKER_START_TIMEOUT_MS = 10_000;
/** More than the blocks ever in flight at once. */
const BUFFERS_KEPT = 16;
/** Blocks queued per worker: one being parsed, one waiting, so a worker never waits for this thread. */
const BLOCKS_PER_WORKER = 2;

/** Complete lines of one stream, `[start, end)` of its file, or one over-long line skipped there. */
interface Block {
  seq: number;
  stream: LogStream;
  start: number;
  end: number;
  /** The lines; `null` for a skipped over-long line; dropped once sent to a worker (transferred). */
  bytes: Uint8Array | null | undefined;
}

/**
 * What every line read is checked against: the reader's pipeline cap and
 * clock skew (see lib/etl/limits.ts) and its clock, read once per block.
 *
 * @example
 * ```ts
 * const bounds: IngestBounds = { limits: DEFAULT_INGEST_LIMITS, clock: Date.now };
 * ```
 */
export interface IngestBounds {
  limits: IngestLimits;
  clock: () => number;
}

/**
 * A reader of `backlog` bytes into `state`: on worker threads when the
 * backlog is large enough and the worker module is there, else in this thread.
 * Each block is folded within `bounds`, then fitted to the pipeline cap of
 * `state` ({@linkcode fitBlock}) before it is merged.
 *
 * @example
 * ```ts
 * const reader = await createBulkReader(state, 65536, 200e6, { workers: 2 });
 * await reader.read(stream, stream.knownSize);
 * await reader.close();
 * ```
 */
export async function createBulkReader(
  state: IngestState,
  maxLineBytes: number,
  backlog: number,
  options: BulkReadOptions,
  bounds: IngestBounds = { limits: DEFAULT_INGEST_LIMITS, clock: Date.now },
): Promise<BulkReader> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_BULK_CHUNK_BYTES;
  const workers = options.workers ?? 2;
  requireInteger("chunkBytes", chunkBytes, 1);
  requireInteger("workers", workers, 0);
  const merger = new InOrderMerger(state, options.onBadLine, bounds.limits);
  // A block is folded into a fresh state: the pipelines tracked already must fit in it too.
  const blockOptions = () => ({
    maxBadLines: options.maxBadLinesPerBlock,
    limits: { ...bounds.limits, alwaysFit: new Set([...(bounds.limits.alwaysFit ?? []), ...Object.keys(state.pipelines)]) },
    nowMs: bounds.clock(),
  });
  const parse = (bytes: Uint8Array): BlockResult => ingestBlock(bytes, maxLineBytes, blockOptions());
  const buffers = new BufferPool(chunkBytes);
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const useWorkers = workers > 0 && backlog >= (options.minWorkerBytes ?? DEFAULT_MIN_WORKER_BYTES) &&
    (await workerModuleExists(workerUrl));
  const executor: Executor = useWorkers
    ? new WorkerPool(workerUrl, workers, options.workerOldGenerationMb ?? DEFAULT_WORKER_OLD_GENERATION_MB, merger, parse, buffers, () => ({
      maxLineBytes,
      ...blockOptions(),
    }))
    : new LocalExecutor(merger, parse, buffers);
  const summary: BulkIngestSummary = { files: 0, bytes: 0, workers: 0 };
  return {
    async read(stream, end) {
      const from = stream.committed;
      try {
        await readRange(stream, end, buffers, executor, merger, parse);
      } finally {
        await executor.drain();
      }
      if (stream.committed > from) summary.files += 1;
      summary.bytes += stream.committed - from;
    },
    async close() {
      await executor.close();
      summary.workers = executor.workersUsed;
      options.onFinish?.(summary);
    },
  };
}

/** Where the worker's module is: next to this source under Deno or a test, next to the bundle in dist/. */
function defaultWorkerUrl(): URL {
  return new URL(import.meta.url.endsWith(".ts") ? "./ingest_thread.ts" : "./ingest-thread.mjs", import.meta.url);
}

/** A bundle shipped without its worker runs single-threaded, without a failed start (that Deno reports on stderr). */
async function workerModuleExists(url: URL): Promise<boolean> {
  if (url.protocol !== "file:") return true;
  try {
    return (await stat(fileURLToPath(url))).isFile();
  } catch {
    return false;
  }
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
}

/**
 * Cuts a stream's range into blocks of complete lines with its splitter and
 * submits them in order. The line cut across a chunk boundary (a small copy)
 * and over-long lines are merged here; the rest of each chunk goes to the
 * executor in the chunk's own buffer.
 */
async function readRange(
  stream: LogStream,
  end: number,
  buffers: BufferPool,
  executor: Executor,
  merger: InOrderMerger,
  parse: (bytes: Uint8Array) => BlockResult,
): Promise<void> {
  const handle = stream.handle!;
  let cursor = stream.committed;
  while (stream.readOffset < end) {
    const buffer = buffers.take();
    const want = Math.min(buffer.length, end - stream.readOffset);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, want, stream.readOffset));
    } catch (error) {
      buffers.give(buffer.buffer);
      throw error;
    }
    if (bytesRead === 0) {
      buffers.give(buffer.buffer);
      break; // Shorter than it was: the next poll sees the truncation.
    }
    stream.readOffset += bytesRead;
    const blocks: Block[] = [];
    stream.splitter.pushBytes(buffer.subarray(0, bytesRead), (run, streamBytes) => {
      blocks.push({ seq: merger.nextSeq(), stream, start: cursor, end: cursor + streamBytes, bytes: run });
      cursor += streamBytes;
    });
    let handedOver = false;
    for (const block of blocks) {
      if (block.bytes !== null && block.bytes!.buffer === buffer.buffer) {
        handedOver = true;
        await executor.submit(block);
      } else {
        merger.add(block, block.bytes === null ? undefined : parse(block.bytes!));
      }
    }
    if (!handedOver) buffers.give(buffer.buffer);
  }
}

/** What a worker request carries besides the bytes; taken when the block is sent. */
type WorkerRequestOptions = Omit<IngestWorkerRequest, "id" | "bytes" | "byteOffset" | "byteLength">;

/** Ingests blocks somewhere and hands the results to the merger. */
interface Executor {
  /** Takes a block; resolves when there is room for the next one. */
  submit(block: Block): Promise<void>;
  /** Resolves when every block submitted is merged; rejects on the first failure. */
  drain(): Promise<void>;
  close(): Promise<void>;
  /** Threads other than this one that parsed a block. */
  readonly workersUsed: number;
}

/** Merges block results into the state in the order the blocks were read. */
class InOrderMerger {
  readonly #state: IngestState;
  readonly #onBadLine: BulkReadOptions["onBadLine"];
  readonly #limits: IngestLimits;
  readonly #waiting = new Map<number, { block: Block; result: BlockResult | undefined }>();
  #issued = 0;
  #merged = 0;

  constructor(state: IngestState, onBadLine: BulkReadOptions["onBadLine"], limits: IngestLimits) {
    this.#state = state;
    this.#onBadLine = onBadLine;
    this.#limits = limits;
  }

  nextSeq(): number {
    return this.#issued++;
  }

  /** Takes a block's result (`undefined` for a skipped over-long line) and merges every one now in order. */
  add(block: Block, result: BlockResult | undefined): void {
    this.#waiting.set(block.seq, { block, result });
    for (let next = this.#waiting.get(this.#merged); next !== undefined; next = this.#waiting.get(this.#merged)) {
      this.#waiting.delete(this.#merged);
      this.#merged += 1;
      this.#merge(next.block, next.result);
    }
  }

  #merge(block: Block, result: BlockResult | undefined): void {
    const path = block.stream.path;
    if (result === undefined) {
      // Counted as the splitter counts a line it skipped while streaming.
      const outcome = ingestLine(this.#state, null);
      this.#state.bytesRead += block.end - block.start;
      if (outcome.result === "too_long") this.#onBadLine?.(outcome, path);
      return;
    }
    const fitted = fitBlock(this.#state, result, this.#limits);
    mergeState(this.#state, fitted.state);
    for (const line of result.badLines) this.#onBadLine?.(line, path);
  }
}

/** Parses every block in this thread, as soon as it is read. */
class LocalExecutor implements Executor {
  readonly workersUsed = 0;
  readonly #merger: InOrderMerger;
  readonly #parse: (bytes: Uint8Array) => BlockResult;
  readonly #buffers: BufferPool;

  constructor(merger: InOrderMerger, parse: (bytes: Uint8Array) => BlockResult, buffers: BufferPool) {
    this.#merger = merger;
    this.#parse = parse;
    this.#buffers = buffers;
  }

  submit(block: Block): Promise<void> {
    const bytes = block.bytes!;
    block.bytes = undefined;
    const result = this.#parse(bytes);
    // The result holds nothing of the bytes: the buffer can take the next chunk.
    this.#buffers.give(bytes.buffer);
    this.#merger.add(block, result);
    return Promise.resolve();
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface PoolSlot {
  worker: Worker;
  /** Started with the old-generation cap: replaced by an uncapped worker if it runs out. */
  capped: boolean;
  ready: boolean;
  lost: boolean;
  used: boolean;
  inFlight: Map<number, Block>;
}

/**
 * Worker threads, each sent at most {@linkcode BLOCKS_PER_WORKER} blocks at
 * a time. A worker that fails to start is dropped (with none left, blocks
 * are parsed in this thread); the blocks of one that dies are read again
 * and parsed here. One that runs out of its capped old generation is
 * replaced by one without the cap.
 */
class WorkerPool implements Executor {
  readonly #slots: PoolSlot[] = [];
  readonly #merger: InOrderMerger;
  readonly #parse: (bytes: Uint8Array) => BlockResult;
  readonly #buffers: BufferPool;
  readonly #request: () => WorkerRequestOptions;
  /** Blocks of lost workers, to parse here. */
  readonly #orphans: Block[] = [];
  readonly #url: URL;
  readonly #startTimers = new Set<ReturnType<typeof setTimeout>>();
  #failure: Error | undefined;
  #closing = false;
  #wake: (() => void) | undefined;

  constructor(
    url: URL,
    count: number,
    oldGenerationMb: number,
    merger: InOrderMerger,
    parse: (bytes: Uint8Array) => BlockResult,
    buffers: BufferPool,
    request: () => WorkerRequestOptions,
  ) {
    this.#merger = merger;
    this.#parse = parse;
    this.#buffers = buffers;
    this.#request = request;
    this.#url = url;
    const started: PoolSlot[] = [];
    for (let i = 0; i < count; i++) {
      const slot = this.#start(oldGenerationMb);
      if (slot !== undefined) started.push(slot);
    }
    this.#giveUpUnready(started);
  }

  #start(oldGenerationMb: number | undefined): PoolSlot | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.#url, {
        resourceLimits: {
          maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
          ...(oldGenerationMb === undefined ? {} : { maxOldGenerationSizeMb: oldGenerationMb }),
        },
      });
    } catch {
      return undefined;
    }
    const slot: PoolSlot = { worker, capped: oldGenerationMb !== undefined, ready: false, lost: false, used: false, inFlight: new Map() };
    worker.on("message", (message: IngestWorkerReply | { ready: true }) => this.#onMessage(slot, message));
    worker.on("error", (error: Error & { code?: string }) => {
      this.#lose(slot);
      if (error?.code === "ERR_WORKER_OUT_OF_MEMORY" && slot.capped && !this.#closing) {
        const replacement = this.#start(undefined);
        if (replacement !== undefined) this.#giveUpUnready([replacement]);
      }
    });
    worker.on("exit", () => this.#lose(slot));
    this.#slots.push(slot);
    return slot;
  }

  #giveUpUnready(slots: PoolSlot[]): void {
    const timer = setTimeout(() => {
      this.#startTimers.delete(timer);
      for (const slot of slots) if (!slot.ready) this.#lose(slot);
    }, WORKER_START_TIMEOUT_MS);
    this.#startTimers.add(timer);
  }

  async submit(block: Block): Promise<void> {
    for (;;) {
      await this.#settle();
      const live = this.#slots.filter((slot) => !slot.lost);
      if (live.length === 0) {
        const bytes = block.bytes!;
        block.bytes = undefined;
        const result = this.#parse(bytes);
        this.#buffers.give(bytes.buffer);
        this.#merger.add(block, result);
        return;
      }
      let best: PoolSlot | undefined;
      for (const slot of live) {
        if (slot.ready && slot.inFlight.size < BLOCKS_PER_WORKER && (best === undefined || slot.inFlight.size < best.inFlight.size)) {
          best = slot;
        }
      }
      if (best !== undefined) {
        this.#send(best, block);
        return;
      }
      await this.#changed();
    }
  }

  async drain(): Promise<void> {
    for (;;) {
      await this.#settle();
      if (this.#slots.every((slot) => slot.inFlight.size === 0)) return;
      await this.#changed();
    }
  }

  get workersUsed(): number {
    return this.#slots.filter((slot) => slot.used).length;
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#startTimers) clearTimeout(timer);
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate().catch(() => undefined)));
  }

  #send(slot: PoolSlot, block: Block): void {
    const bytes = block.bytes!;
    block.bytes = undefined;
    slot.inFlight.set(block.seq, block);
    const request: IngestWorkerRequest = {
      id: block.seq,
      bytes: bytes.buffer as ArrayBuffer,
      byteOffset: bytes.byteOffset,
      byteLength: bytes.byteLength,
      ...this.#request(),
    };
    slot.worker.postMessage(request, [request.bytes]);
  }

  /** Throws a worker's failure; parses the blocks of lost workers here. */
  async #settle(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    while (this.#orphans.length > 0) {
      const block = this.#orphans.shift()!;
      const bytes = new Uint8Array(block.end - block.start);
      const { bytesRead } = await block.stream.handle!.read(bytes, 0, bytes.length, block.start);
      if (bytesRead !== bytes.length) throw new Error(`${block.stream.path} changed while it was read`);
      this.#merger.add(block, this.#parse(bytes));
    }
  }

  #onMessage(slot: PoolSlot, message: IngestWorkerReply | { ready: true }): void {
    if ("ready" in message) {
      slot.ready = true;
    } else {
      const block = slot.inFlight.get(message.id);
      slot.inFlight.delete(message.id);
      this.#buffers.give(message.bytes);
      if ("error" in message) this.#failure ??= new Error(`ingest worker failed: ${message.error}`);
      else if (block !== undefined) {
        slot.used = true;
        try {
          this.#merger.add(block, message.result);
        } catch (error) {
          // Thrown from an event handler it would crash the process; the reader rethrows it instead.
          this.#failure ??= error as Error;
        }
      }
    }
    this.#notify();
  }

  #lose(slot: PoolSlot): void {
    if (slot.lost || this.#closing) return;
    slot.lost = true;
    this.#orphans.push(...slot.inFlight.values());
    slot.inFlight.clear();
    this.#orphans.sort((a, b) => a.seq - b.seq);
    slot.worker.terminate().catch(() => undefined);
    this.#notify();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Chunk buffers, used again once their block is parsed (workers send them
 * back). Fresh memory is paid in page faults on first touch: allocating a
 * buffer per chunk took a third of this thread's time in a VM. Few are ever
 * out at once (the blocks in flight), so few are kept.
 */
class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  take(): Uint8Array {
    return new Uint8Array(this.#free.pop() ?? new ArrayBuffer(this.#size));
  }

  give(buffer: ArrayBufferLike): void {
    // Others (one detached by a transfer) are left to the GC.
    if (buffer.byteLength === this.#size && this.#free.length < BUFFERS_KEPT) this.#free.push(buffer as ArrayBuffer);
  }
}
