/**
 * The exporter's catch-up: reads the backlog of the `*.log` files of a
 * directory on every core, before the {@linkcode Tailer} takes over.
 *
 * This thread reads each file in chunks, cut after their last newline (the
 * cut-off tail is carried into the next chunk), and hands the blocks of
 * complete lines to worker threads ({@link ./ingest_thread.ts}), reading
 * the next chunk while they parse. Each block is folded into a fresh state;
 * the results are merged into the caller's state strictly in file order
 * with {@linkcode mergeState}, so the state ends exactly as one sequential
 * read would leave it (what `recount` computes).
 *
 * Files are found as the tailer finds them; a file is read from its saved
 * position when that position's inode is the file's, else from 0. Whatever
 * is in doubt (a saved inode not at its path, a file now shorter than its
 * saved offset, a file replaced while opening it) is left alone, with its
 * saved position, for the tailer's own restore logic. Bytes after a
 * file's last newline (a partial line) are left for the tailer as well.
 *
 * Small backlogs, `workers: 0`, and runtimes where a worker cannot start go
 * through the same blocks and merges in this thread.
 *
 * @example
 * ```ts
 * import { createIngestState } from "../../lib/etl/state.ts";
 * import { bulkIngest } from "./bulk_ingest.ts";
 * import { createTailer } from "./tailer.ts";
 * const state = createIngestState();
 * const positions = await bulkIngest({ dir: "data/logs", state, maxLineBytes: 65536 });
 * const tailer = createTailer({ dir: "data/logs", state, positions, maxLineBytes: 65536 });
 * ```
 * @module
 */
import type { Stats } from "node:fs";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ingestLine } from "../../lib/etl/ingest.ts";
import { type BadLine, type BlockResult, fitBlock, ingestBlock } from "../../lib/etl/ingest_block.ts";
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from "../../lib/etl/limits.ts";
import { mergeState } from "../../lib/etl/merge_state.ts";
import type { IngestState } from "../../lib/etl/state.ts";
import type { IngestWorkerReply, IngestWorkerRequest } from "./ingest_thread.ts";
import type { FilePosition } from "./tailer.ts";

/**
 * Options of {@linkcode bulkIngest}.
 *
 * @example
 * ```ts
 * const options: BulkIngestOptions = { dir: "data/logs", state: createIngestState(), maxLineBytes: 65536, workers: 2 };
 * ```
 */
export interface BulkIngestOptions {
  /** The directory whose `*.log` files are read (not recursively). */
  dir: string;
  /** Merged into in place; pass the state of the checkpoint the positions come from. */
  state: IngestState;
  /** Positions from a checkpoint; files without one are read from 0. */
  positions?: Readonly<Record<string, FilePosition>>;
  /** Longer lines are skipped and counted as `too_long`, never held in memory whole. */
  maxLineBytes: number;
  /** Pipeline cap and clock skew (see lib/etl/limits.ts). Default {@linkcode DEFAULT_INGEST_LIMITS}. */
  limits?: IngestLimits;
  /** The exporter's clock, checked against each line's time. Default `Date.now`. */
  clock?: () => number;
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
  /**
   * Receives I/O errors of single files (or of the directory); the file is
   * left, from the last line read, to the tailer. Without it they reject.
   */
  onError?: (error: unknown, file: string) => void;
  /** Told, at the end, what was read and by how many threads (e.g. for a log line). */
  onFinish?: (summary: BulkIngestSummary) => void;
}

/**
 * What {@linkcode bulkIngest} did.
 *
 * @example
 * ```ts
 * const summary: BulkIngestSummary = { files: 1, bytes: 173_580_916, workers: 2 };
 * ```
 */
export interface BulkIngestSummary {
  /** Files read, from their position or from 0. */
  files: number;
  /** Bytes of complete lines read. */
  bytes: number;
  /** Worker threads that parsed at least one block; 0 when all was parsed in this thread. */
  workers: number;
}

/**
 * The default of {@linkcode BulkIngestOptions.chunkBytes}.
 *
 * @example
 * ```ts
 * await bulkIngest({ dir, state, maxLineBytes, chunkBytes: DEFAULT_BULK_CHUNK_BYTES / 4 });
 * ```
 */
export const DEFAULT_BULK_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The default of {@linkcode BulkIngestOptions.minWorkerBytes}.
 *
 * @example
 * ```ts
 * await bulkIngest({ dir, state, maxLineBytes, minWorkerBytes: DEFAULT_MIN_WORKER_BYTES * 2 });
 * ```
 */
export const DEFAULT_MIN_WORKER_BYTES = 8 * 1024 * 1024;

/** A worker not loaded by then is given up (parsing goes on without it) rather than waited for. */
const WORKER_START_TIMEOUT_MS = 10_000;
/** More than the blocks ever in flight at once. */
const BUFFERS_KEPT = 16;
/** Blocks queued per worker: one being parsed, one waiting, so a worker never waits for this thread. */
const BLOCKS_PER_WORKER = 2;
const NEWLINE = 0x0a;

/** A file to read from `start` to its end. */
interface PlannedFile {
  path: string;
  ino: number;
  dev: number;
  start: number;
  /** Its size: at the scan, then when opened (reading stops there, the tailer reads the rest). */
  size: number;
  /** The saved position it resumes from, if any. */
  saved?: FilePosition;
}

/** A file being read; `offset` is after the last complete line merged so far. */
interface OpenFile extends PlannedFile {
  handle: FileHandle;
  /** Set once the handle is being closed. */
  closed: Promise<void> | undefined;
  offset: number;
  /** Blocks read but not merged yet; the handle stays open for a re-read until they are. */
  unmerged: number;
  readDone: boolean;
}

/** Complete lines of one file, `[start, end)`, the bytes from `start` on ending with a newline. */
interface Block {
  seq: number;
  file: OpenFile;
  start: number;
  end: number;
  /** Dropped once sent to a worker (transferred). */
  bytes: Uint8Array | undefined;
  /** Length (newline included) of an over-long line that ended just before `start`, or 0. */
  tooLongBefore: number;
}

/**
 * Reads every `*.log` file of `dir` from its position (or 0) to its current
 * end into `state`, parsing on `workers` threads, and returns the position
 * of every file: those read (after their last complete line) and the saved
 * ones left to the tailer. Pass them to `createTailer`.
 *
 * @example
 * ```ts
 * const saved = await readCheckpoint(path);
 * const state = saved.checkpoint?.state ?? createIngestState();
 * const positions = await bulkIngest({ dir, state, positions: saved.checkpoint?.files, maxLineBytes: 65536 });
 * const tailer = createTailer({ dir, state, positions, maxLineBytes: 65536 });
 * ```
 */
export async function bulkIngest(options: BulkIngestOptions): Promise<Record<string, FilePosition>> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_BULK_CHUNK_BYTES;
  const workers = options.workers ?? 2;
  requireInteger("chunkBytes", chunkBytes, 1);
  requireInteger("maxLineBytes", options.maxLineBytes, 1);
  requireInteger("workers", workers, 0);
  const report = (error: unknown, file: string): void => {
    if (options.onError === undefined) throw error;
    options.onError(error, file);
  };
  const { planned, leftAlone } = await planFiles(options.dir, options.positions ?? {}, report);
  const backlog = planned.reduce((sum, file) => sum + file.size - file.start, 0);

  const limits = options.limits ?? DEFAULT_INGEST_LIMITS;
  const merger = new InOrderMerger(options.state, options.onBadLine, limits);
  // A block is folded into a fresh state: the pipelines tracked already must fit in it too.
  const blockOptions = () => ({
    maxBadLines: options.maxBadLinesPerBlock,
    limits: { ...limits, alwaysFit: new Set([...(limits.alwaysFit ?? []), ...Object.keys(options.state.pipelines)]) },
    nowMs: (options.clock ?? Date.now)(),
  });
  const parse = (bytes: Uint8Array): BlockResult => ingestBlock(bytes, options.maxLineBytes, blockOptions());
  // Room for a chunk and a carried partial line of usual length.
  const buffers = new BufferPool(chunkBytes + Math.min(options.maxLineBytes, chunkBytes));
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const useWorkers = workers > 0 && backlog >= (options.minWorkerBytes ?? DEFAULT_MIN_WORKER_BYTES) &&
    (await workerModuleExists(workerUrl));
  const executor: Executor = useWorkers
    ? new WorkerPool(workerUrl, workers, merger, parse, buffers, () => ({ maxLineBytes: options.maxLineBytes, ...blockOptions() }))
    : new LocalExecutor(merger, parse, buffers);

  const positions: Record<string, FilePosition> = { ...leftAlone };
  const opened: OpenFile[] = [];
  try {
    for (const plan of planned) {
      const file = await openPlanned(plan).catch((error) => report(error, plan.path));
      // Gone, replaced or unreadable since the scan: the tailer reads whatever is there now.
      if (file === undefined) {
        if (plan.saved !== undefined) positions[plan.path] = plan.saved;
        continue;
      }
      opened.push(file);
      await readFile(file, chunkBytes, options.maxLineBytes, buffers, executor, merger, report);
    }
    await executor.drain();
  } finally {
    await executor.close();
    for (const file of opened) await closeFile(file);
  }
  let bytes = 0;
  for (const file of opened) {
    positions[file.path] = { ino: file.ino, dev: file.dev, offset: file.offset };
    bytes += file.offset - file.start;
  }
  options.onFinish?.({ files: opened.length, bytes, workers: executor.workersUsed });
  return positions;
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
 * Cuts one file into blocks of complete lines and submits them in order.
 * Memory stays bounded: the carry is at most `maxLineBytes`; a longer
 * partial line is skipped up to its newline and counted once.
 */
async function readFile(
  file: OpenFile,
  chunkBytes: number,
  maxLineBytes: number,
  buffers: BufferPool,
  executor: Executor,
  merger: InOrderMerger,
  report: (error: unknown, file: string) => void,
): Promise<void> {
  let position = file.start;
  let carry = new Uint8Array(0);
  /** Bytes of an over-long line skipped so far, or -1 when not skipping one. */
  let skipped = -1;
  try {
    while (position < file.size) {
      const want = Math.min(chunkBytes, file.size - position);
      const buffer = buffers.take(carry.length + want);
      buffer.set(carry);
      let bytesRead: number;
      try {
        ({ bytesRead } = await file.handle.read(buffer, carry.length, want, position));
      } catch (error) {
        buffers.give(buffer.buffer);
        // What was submitted is merged and sets the offset the tailer resumes from.
        report(error, file.path);
        break;
      }
      if (bytesRead === 0) {
        buffers.give(buffer.buffer);
        break; // Shorter than it was: the tailer will see the truncation.
      }
      const data = buffer.subarray(0, carry.length + bytesRead);
      const dataStart = position - carry.length;
      position += bytesRead;

      let from = 0;
      let tooLongBefore = 0;
      if (skipped >= 0) {
        const newline = data.indexOf(NEWLINE);
        if (newline === -1) {
          skipped += data.length;
          buffers.give(buffer.buffer);
          continue;
        }
        tooLongBefore = skipped + newline + 1;
        skipped = -1;
        from = newline + 1;
      }
      const lastNewline = data.lastIndexOf(NEWLINE);
      const end = lastNewline >= from ? lastNewline + 1 : from;
      const tail = data.subarray(end);
      if (tail.length > maxLineBytes) {
        skipped = tail.length;
        carry = new Uint8Array(0);
      } else {
        // A copy, taken before the chunk's buffer is transferred to a worker.
        carry = tail.slice();
      }
      if (end > from || tooLongBefore > 0) {
        file.unmerged += 1;
        await executor.submit({
          seq: merger.nextSeq(),
          file,
          start: dataStart + from,
          end: dataStart + end,
          bytes: data.subarray(from, end),
          tooLongBefore,
        });
      } else {
        buffers.give(buffer.buffer);
      }
    }
  } finally {
    file.readDone = true;
    merger.closeIfDone(file);
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
  readonly #onBadLine: BulkIngestOptions["onBadLine"];
  readonly #limits: IngestLimits;
  readonly #waiting = new Map<number, { block: Block; result: BlockResult }>();
  #issued = 0;
  #merged = 0;

  constructor(state: IngestState, onBadLine: BulkIngestOptions["onBadLine"], limits: IngestLimits) {
    this.#state = state;
    this.#onBadLine = onBadLine;
    this.#limits = limits;
  }

  nextSeq(): number {
    return this.#issued++;
  }

  add(block: Block, result: BlockResult): void {
    this.#waiting.set(block.seq, { block, result });
    for (let next = this.#waiting.get(this.#merged); next !== undefined; next = this.#waiting.get(this.#merged)) {
      this.#waiting.delete(this.#merged);
      this.#merged += 1;
      this.#merge(next.block, next.result);
    }
  }

  #merge(block: Block, result: BlockResult): void {
    const { file } = block;
    if (block.tooLongBefore > 0) {
      // Counted as the splitter counts a line it skipped while streaming.
      const outcome = ingestLine(this.#state, null);
      this.#state.bytesRead += block.tooLongBefore;
      if (outcome.result === "too_long") this.#onBadLine?.(outcome, file.path);
    }
    const fitted = fitBlock(this.#state, result, this.#limits);
    mergeState(this.#state, fitted.state, fitted.fileProcessed);
    for (const line of result.badLines) this.#onBadLine?.(line, file.path);
    file.offset = block.end;
    file.unmerged -= 1;
    this.closeIfDone(file);
  }

  /** Lets go of a file's handle once it is read and merged; a directory of many logs must not run out of descriptors. */
  closeIfDone(file: OpenFile): void {
    if (file.readDone && file.unmerged === 0) closeFile(file);
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
  ready: boolean;
  lost: boolean;
  used: boolean;
  inFlight: Map<number, Block>;
}

/**
 * Worker threads, each sent at most {@linkcode BLOCKS_PER_WORKER} blocks at
 * a time. A worker that fails to start is dropped (with none left, blocks
 * are parsed in this thread); the blocks of one that dies are read again
 * and parsed here.
 */
class WorkerPool implements Executor {
  readonly #slots: PoolSlot[] = [];
  readonly #merger: InOrderMerger;
  readonly #parse: (bytes: Uint8Array) => BlockResult;
  readonly #buffers: BufferPool;
  readonly #request: () => WorkerRequestOptions;
  /** Blocks of lost workers, to parse here. */
  readonly #orphans: Block[] = [];
  readonly #startTimer: ReturnType<typeof setTimeout>;
  #failure: Error | undefined;
  #closing = false;
  #wake: (() => void) | undefined;

  constructor(
    url: URL,
    count: number,
    merger: InOrderMerger,
    parse: (bytes: Uint8Array) => BlockResult,
    buffers: BufferPool,
    request: () => WorkerRequestOptions,
  ) {
    this.#merger = merger;
    this.#parse = parse;
    this.#buffers = buffers;
    this.#request = request;
    for (let i = 0; i < count; i++) {
      let worker: Worker;
      try {
        worker = new Worker(url);
      } catch {
        continue;
      }
      const slot: PoolSlot = { worker, ready: false, lost: false, used: false, inFlight: new Map() };
      worker.on("message", (message: IngestWorkerReply | { ready: true }) => this.#onMessage(slot, message));
      worker.on("error", () => this.#lose(slot));
      worker.on("exit", () => this.#lose(slot));
      this.#slots.push(slot);
    }
    this.#startTimer = setTimeout(() => {
      for (const slot of this.#slots) if (!slot.ready) this.#lose(slot);
    }, WORKER_START_TIMEOUT_MS);
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
    clearTimeout(this.#startTimer);
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
      const { bytesRead } = await block.file.handle.read(bytes, 0, bytes.length, block.start);
      if (bytesRead !== bytes.length) throw new Error(`${block.file.path} changed while it was read`);
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

  /** A buffer of at least `bytes` bytes. */
  take(bytes: number): Uint8Array {
    if (bytes > this.#size) return new Uint8Array(bytes);
    return new Uint8Array(this.#free.pop() ?? new ArrayBuffer(this.#size));
  }

  give(buffer: ArrayBufferLike): void {
    // Others (a one-off for a long carry, one detached by a transfer) are left to the GC.
    if (buffer.byteLength === this.#size && this.#free.length < BUFFERS_KEPT) this.#free.push(buffer as ArrayBuffer);
  }
}

/** What a scan decided: files to read, and saved positions left to the tailer. */
async function planFiles(
  dir: string,
  saved: Readonly<Record<string, FilePosition>>,
  report: (error: unknown, file: string) => void,
): Promise<{ planned: PlannedFile[]; leftAlone: Record<string, FilePosition> }> {
  const leftAlone: Record<string, FilePosition> = {};
  for (const [path, position] of Object.entries(saved)) {
    // Keyed by file name as the tailer keys them: the directory may be spelled differently after a restart.
    leftAlone[join(dir, basename(path))] = { ...position };
  }
  const savedInos = new Set(Object.values(leftAlone).map((position) => position.ino));
  const planned: PlannedFile[] = [];
  const taken = new Set<string>();
  let found = new Map<string, Stats>();
  try {
    found = await scan(dir);
  } catch (error) {
    report(error, dir);
  }
  for (const [path, info] of found) {
    const id = `${info.dev}:${info.ino}`;
    const position = Object.hasOwn(leftAlone, path) ? leftAlone[path] : undefined;
    if (position !== undefined) {
      // Inode only, as the tailer: device numbers of overlay and network filesystems can change.
      if (position.ino !== info.ino || info.size < position.offset || taken.has(id)) continue;
      delete leftAlone[path];
      planned.push({ path, ino: info.ino, dev: info.dev, start: position.offset, size: info.size, saved: position });
    } else {
      // A saved file may have moved here while we were down: the tailer resolves those.
      if (savedInos.has(info.ino) || taken.has(id)) continue;
      planned.push({ path, ino: info.ino, dev: info.dev, start: 0, size: info.size });
    }
    // A hard link to a file already planned would count its lines twice.
    taken.add(id);
  }
  return { planned, leftAlone };
}

/** The regular `*.log` files directly in the directory, by path, in name order (the tailer's order). */
async function scan(dir: string): Promise<Map<string, Stats>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    // The directory may not exist yet: the writer creates it on its first line.
    if (isErrno(error, "ENOENT")) return new Map();
    throw error;
  }
  const found = new Map<string, Stats>();
  for (const name of names.sort()) {
    if (!name.endsWith(".log")) continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (info.isFile()) found.set(path, info);
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
    }
  }
  return found;
}

/** Opens a planned file; `undefined` if it is gone or no longer the file planned. */
async function openPlanned(plan: PlannedFile): Promise<OpenFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(plan.path, "r");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  const info = await handle.stat().catch(async (error) => {
    await handle.close().catch(() => undefined);
    throw error;
  });
  // Replaced, or truncated below the saved offset, since the scan: the tailer sorts that out.
  if (info.ino !== plan.ino || info.dev !== plan.dev || info.size < plan.start) {
    await handle.close();
    return undefined;
  }
  return { ...plan, handle, closed: undefined, size: info.size, offset: plan.start, unmerged: 0, readDone: false };
}

function closeFile(file: OpenFile): Promise<void> {
  file.closed ??= file.handle.close().catch(() => undefined);
  return file.closed;
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
