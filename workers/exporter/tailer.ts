/**
 * Tails the `*.log` files of one directory into an {@linkcode IngestState}:
 * the exporter's only reader of the logs.
 *
 * Each file is read through its open handle in chunks, split into lines
 * (a partial last line waits for its newline) and each complete line is
 * ingested once. The tailer follows rotation by rename (the old file is read
 * to its end before the new one is started), truncation in place
 * (copytruncate) and deletion, and can resume from the positions saved in a
 * checkpoint.
 *
 * The state and the positions move together: at every `await` inside a poll
 * the state holds exactly the lines before each file's committed offset, so
 * a checkpoint of `state` + {@linkcode Tailer.positions} taken at any moment
 * (synchronously, e.g. from a timer) restores without losing or
 * double-counting a line. For the same reason `state.bytesRead` counts the
 * bytes of complete lines only: a held-back partial line is read again after
 * a restore and must not be counted twice.
 *
 * Known limits, shared with most log tailers:
 * - a copytruncate that is followed by more writes than we had read before
 *   the next poll is invisible (the file never looks shorter);
 * - while the exporter is down, only one rotation per file can be followed:
 *   the saved file is found by inode anywhere in the directory, but a file
 *   rotated in and out again in between is never seen;
 * - an inode number reused for a new file at the same path while the
 *   exporter is down is taken for the old file when the new one is at least
 *   as long as the saved offset.
 *
 * @example
 * ```ts
 * import { createIngestState } from "../../lib/etl/state.ts";
 * import { createTailer } from "./tailer.ts";
 * const state = createIngestState();
 * const tailer = createTailer({ dir: "data/logs", state, maxLineBytes: 64 * 1024 });
 * await tailer.poll();
 * state.lines.parsed; // lines read so far
 * tailer.positions(); // { "data/logs/orders.log": { ino, dev, offset } }
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import type { Stats } from "node:fs";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { ingestLine, type LineOutcome } from "../../lib/etl/ingest.ts";
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from "../../lib/etl/limits.ts";
import { LineSplitter } from "../../lib/etl/line_splitter.ts";
import type { IngestState } from "../../lib/etl/state.ts";

/**
 * Where reading of one file stands; `offset` is the start of its first incomplete line.
 *
 * @example
 * ```ts
 * const position: FilePosition = { ino: 5308446, dev: 65024, offset: 4096 };
 * ```
 */
export interface FilePosition {
  ino: number;
  dev: number;
  offset: number;
}

/**
 * Counters the exporter can expose as metrics; they restart at 0 with the process.
 *
 * @example
 * ```ts
 * rotationsCounter.set(tailer.stats.rotations);
 * ```
 */
export interface TailerStats {
  /**
   * Files that left their path (renamed away or deleted, also while the
   * exporter was down); each was read to its end first.
   */
  rotations: number;
  /** Files found shorter than the offset read (truncated in place); read again from 0. */
  truncations: number;
  /** Saved positions whose file was nowhere in the directory on restore: its unread tail is lost. */
  restoreMisses: number;
}

/**
 * Options of {@linkcode createTailer}.
 *
 * @example
 * ```ts
 * const options: TailerOptions = { dir: "data/logs", state: createIngestState(), maxLineBytes: 65536 };
 * ```
 */
export interface TailerOptions {
  /** The directory whose `*.log` files are read (not recursively). */
  dir: string;
  /** Folded into in place; pass the state of the checkpoint the positions come from. */
  state: IngestState;
  /** Longer lines are skipped and counted as `too_long`, never held in memory whole. */
  maxLineBytes: number;
  /** Pipeline cap and clock skew (see lib/etl/limits.ts). Default {@linkcode DEFAULT_INGEST_LIMITS}. */
  limits?: IngestLimits;
  /** The exporter's clock, checked against each line's time. Default `Date.now`. */
  clock?: () => number;
  /** Bytes read at a time; bounds the memory of reading a long backlog. Default 1 MiB. */
  chunkBytes?: number;
  /** Positions from a checkpoint (see {@linkcode Tailer.positions}); applied on the first poll. */
  positions?: Readonly<Record<string, FilePosition>>;
  /**
   * Sees every line's outcome, e.g. to log why a line was rejected. Called in
   * the middle of a chunk: do not take a checkpoint from here.
   */
  onLine?: (outcome: LineOutcome, file: string) => void;
  /**
   * Receives I/O errors of single files (the file is skipped for this pass
   * and retried on the next). Without it such errors reject `poll()`.
   */
  onError?: (error: unknown, file: string) => void;
}

/**
 * The default of {@linkcode TailerOptions.chunkBytes}.
 *
 * @example
 * ```ts
 * createTailer({ dir, state, maxLineBytes, chunkBytes: DEFAULT_CHUNK_BYTES / 4 });
 * ```
 */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** One open file being read. */
interface TrackedFile {
  /** The path it was found at; a rename within `*.log` names updates it. */
  path: string;
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Next byte to read: the committed offset plus the splitter's pending bytes. */
  readOffset: number;
  splitter: LineSplitter;
}

/** What a directory scan saw at a `*.log` path. */
interface FoundFile {
  dev: number;
  ino: number;
}

/**
 * Reads the logs of one directory; see the module documentation.
 *
 * @example
 * ```ts
 * const tailer = new Tailer({ dir: "data/logs", state, maxLineBytes: 65536 });
 * const stop = new AbortController();
 * const running = tailer.run(stop.signal, 250);
 * // ... later
 * stop.abort();
 * await running;
 * await tailer.close();
 * ```
 */
export class Tailer {
  readonly dir: string;
  readonly state: IngestState;
  readonly maxLineBytes: number;
  readonly stats: TailerStats = { rotations: 0, truncations: 0, restoreMisses: 0 };
  readonly #buffer: Buffer;
  readonly #onLine: TailerOptions["onLine"];
  readonly #onError: TailerOptions["onError"];
  readonly #limits: IngestLimits;
  readonly #clock: () => number;
  /** Open files by path. */
  readonly #files = new Map<string, TrackedFile>();
  /** Saved positions not yet resolved against the directory, by normalised path. */
  readonly #pending = new Map<string, FilePosition>();
  /** Polls run one after another: two reading one handle at once would count lines twice. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: TailerOptions) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
      throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    }
    if (!Number.isInteger(options.maxLineBytes) || options.maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${options.maxLineBytes}`);
    }
    this.dir = options.dir;
    this.state = options.state;
    this.maxLineBytes = options.maxLineBytes;
    this.#buffer = Buffer.alloc(chunkBytes);
    this.#onLine = options.onLine;
    this.#onError = options.onError;
    this.#limits = options.limits ?? DEFAULT_INGEST_LIMITS;
    this.#clock = options.clock ?? Date.now;
    for (const [path, position] of Object.entries(options.positions ?? {})) {
      // Matched by file name: the same directory may be spelled differently after a restart.
      this.#pending.set(join(this.dir, basename(path)), { ...position });
    }
  }

  /**
   * One pass: reads everything new in every `*.log` file, following
   * rotations, truncations and deletions. Calls are queued, never overlap.
   *
   * @example
   * ```ts
   * await tailer.poll();
   * ```
   */
  poll(): Promise<void> {
    const next = this.#queue.then(() => this.#pollOnce());
    // A failed poll must not wedge the ones queued after it.
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Polls every `intervalMs` until `signal` is aborted; resolves after the
   * last poll ends. A poll that throws (only without `onError`) rejects it.
   *
   * @example
   * ```ts
   * const stop = new AbortController();
   * const running = tailer.run(stop.signal);
   * stop.abort();
   * await running;
   * ```
   */
  async run(signal: AbortSignal, intervalMs = 250): Promise<void> {
    while (!signal.aborted) {
      await this.poll();
      await delay(intervalMs, signal);
    }
  }

  /**
   * The committed position of every file being read, by path: what a
   * checkpoint saves next to the state. Consistent with the state whenever
   * it is called, also in the middle of a poll.
   *
   * @example
   * ```ts
   * const checkpoint = { state: JSON.parse(JSON.stringify(tailer.state)), files: tailer.positions() };
   * ```
   */
  positions(): Record<string, FilePosition> {
    const positions: Record<string, FilePosition> = {};
    for (const [path, position] of this.#pending) positions[path] = { ...position };
    for (const [path, file] of this.#files) {
      positions[path] = { ino: file.ino, dev: file.dev, offset: committedOffset(file) };
    }
    return positions;
  }

  /**
   * Waits for a running poll, then closes every file. Positions stay readable
   * for a last checkpoint; polling again throws.
   *
   * @example
   * ```ts
   * await tailer.close();
   * ```
   */
  async close(): Promise<void> {
    await this.#queue;
    this.#closed = true;
    for (const file of this.#files.values()) await file.handle.close().catch(() => undefined);
  }

  async #pollOnce(): Promise<void> {
    if (this.#closed) throw new Error("Tailer is closed");
    const found = await this.#scan();
    if (this.#pending.size > 0) await this.#restore(found);
    await this.#readTracked(found);
    await this.#openNew(found);
  }

  /** Reads every open file, then lets go of those no longer at their path. */
  async #readTracked(found: Map<string, FoundFile>): Promise<void> {
    const displaced: TrackedFile[] = [];
    for (const file of [...this.#files.values()]) {
      await this.#guard(file.path, () => this.#readNew(file));
      const now = found.get(file.path);
      if (now === undefined || !isSameFile(now, file)) displaced.push(file);
    }
    // Removed and moved with no await in between, so positions() never misses a moved file,
    // and after all removals, so that files swapping names both survive.
    const pathById = new Map<string, string>();
    for (const [path, id] of found) pathById.set(idKey(id), path);
    for (const file of displaced) this.#files.delete(file.path);
    const finished: TrackedFile[] = [];
    for (const file of displaced) {
      this.stats.rotations += 1;
      const movedTo = pathById.get(idKey(file));
      if (movedTo !== undefined && !this.#files.has(movedTo)) {
        file.path = movedTo;
        this.#files.set(movedTo, file);
      } else {
        finished.push(file);
      }
    }
    for (const file of finished) await file.handle.close().catch(() => undefined);
  }

  /** Starts, from offset 0, every `*.log` file not yet read. */
  async #openNew(found: Map<string, FoundFile>): Promise<void> {
    const pendingInos = new Set([...this.#pending.values()].map((saved) => saved.ino));
    for (const [path, id] of found) {
      // A file a saved position may still resolve to must not be read from 0 meanwhile.
      if (this.#files.has(path) || this.#pending.has(path) || pendingInos.has(id.ino)) continue;
      await this.#guard(path, async () => {
        const file = await this.#open(path);
        if (file === undefined) return;
        // A hard link to a file already read would count its lines twice.
        if ([...this.#files.values()].some((other) => isSameFile(other, file))) {
          await file.handle.close();
          return;
        }
        this.#files.set(path, file);
        await this.#readNew(file);
      });
    }
  }

  /**
   * Resolves the saved positions: the same inode at the saved path resumes
   * there; an inode found under another name (rotated while we were down)
   * is read from the saved offset to its end before its path's new file.
   * If a file cannot be opened for now, the positions still to resume stay
   * pending (and their paths unread) until a later poll.
   */
  async #restore(found: Map<string, FoundFile>): Promise<void> {
    const targets = await this.#resolvePending(found);
    const resuming: { path: string; target: string }[] = [];
    for (const [path, target] of targets) {
      if (target === undefined) this.#forget(path);
      else if (found.has(target)) resuming.push({ path, target });
      // Rotated out of the *.log names: read it to its end now, before its path's new file.
      else await this.#guard(target, () => this.#drainSaved(path, target));
    }
    const files = await this.#guard(this.dir, () => this.#openSaved(resuming));
    if (files === undefined) return;
    // Applied together, without an await, so positions() never shows a path twice or not at all.
    for (const { path } of resuming) this.#pending.delete(path);
    for (const { path, file } of files) {
      if (file.path !== path) this.stats.rotations += 1;
      this.#files.set(file.path, file);
    }
  }

  /** Where each saved file is now, by saved path; `undefined` when it is nowhere in the directory. */
  async #resolvePending(found: Map<string, FoundFile>): Promise<Map<string, string | undefined>> {
    const targets = new Map<string, string | undefined>();
    let byIno: Map<number, string> | undefined;
    for (const [path, saved] of this.#pending) {
      // Inode only: device numbers of overlay and network filesystems can change across restarts.
      if (found.get(path)?.ino === saved.ino) {
        targets.set(path, path);
      } else {
        byIno ??= await this.#indexByIno();
        targets.set(path, byIno.get(saved.ino));
      }
    }
    return targets;
  }

  /** Gives up a saved position: its file is gone, with whatever of it was unread. */
  #forget(path: string): void {
    this.#pending.delete(path);
    this.stats.restoreMisses += 1;
  }

  /** Reads a saved file that left the `*.log` names from its saved offset to its end, then closes it. */
  async #drainSaved(path: string, target: string): Promise<void> {
    const saved = this.#pending.get(path)!;
    const file = await this.#open(target);
    if (file === undefined || file.ino !== saved.ino) {
      await file?.handle.close();
      this.#forget(path);
      return;
    }
    file.readOffset = saved.offset;
    this.stats.rotations += 1;
    // Swapped without an await, so positions() shows the saved offset throughout, under the
    // saved path: a checkpoint taken meanwhile still finds the file by inode.
    this.#pending.delete(path);
    this.#files.set(path, file);
    try {
      await this.#readNew(file);
    } finally {
      this.#files.delete(path);
      await file.handle.close().catch(() => undefined);
    }
  }

  /**
   * Opens the saved files still under `*.log` names at their saved offsets
   * (a file now shorter shows as a truncation on its first read). All or
   * nothing: on an error every handle opened is closed again.
   */
  async #openSaved(resuming: readonly { path: string; target: string }[]): Promise<{ path: string; file: TrackedFile }[]> {
    const files: { path: string; file: TrackedFile }[] = [];
    try {
      for (const { path, target } of resuming) {
        const saved = this.#pending.get(path)!;
        const file = await this.#open(target);
        if (file === undefined || file.ino !== saved.ino || files.some((other) => other.file.path === target)) {
          await file?.handle.close();
          this.#forget(path);
          continue;
        }
        file.readOffset = saved.offset;
        files.push({ path, file });
      }
    } catch (error) {
      for (const { file } of files) await file.handle.close().catch(() => undefined);
      throw error;
    }
    return files;
  }

  /** Reads a file from its offset up to the size it has now. */
  async #readNew(file: TrackedFile): Promise<void> {
    const { size } = await file.handle.stat();
    if (size < file.readOffset) {
      // Truncated in place: what was pending belongs to content that is gone.
      file.splitter.reset();
      file.readOffset = 0;
      this.stats.truncations += 1;
    }
    // Stops at the size seen now: a file written faster than we read cannot hold the poll forever.
    while (file.readOffset < size) {
      const { bytesRead } = await file.handle.read(this.#buffer, 0, this.#buffer.length, file.readOffset);
      if (bytesRead === 0) break;
      this.#consume(file, this.#buffer.subarray(0, bytesRead));
    }
  }

  /** Ingests the lines a chunk completes; synchronous so state and offset never disagree at an await. */
  #consume(file: TrackedFile, chunk: Buffer): void {
    const before = committedOffset(file);
    file.readOffset += chunk.length;
    file.splitter.push(chunk, (line) => {
      const outcome = ingestLine(this.state, line, this.#limits, this.#clock());
      this.#onLine?.(outcome, file.path);
    });
    // Bytes of complete lines only: a pending partial line is read again after a restore.
    this.state.bytesRead += committedOffset(file) - before;
  }

  /** Opens a file at offset 0; `undefined` if it vanished meanwhile. */
  async #open(path: string): Promise<TrackedFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return undefined;
      throw error;
    }
    try {
      // The handle's own identity: the path may have been replaced since the scan.
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return undefined;
      }
      return {
        path,
        handle,
        dev: info.dev,
        ino: info.ino,
        readOffset: 0,
        splitter: new LineSplitter(this.maxLineBytes),
      };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** The regular `*.log` files directly in the directory, by path. */
  async #scan(): Promise<Map<string, FoundFile>> {
    const found = new Map<string, FoundFile>();
    for (const [path, info] of await this.#statAll((name) => name.endsWith(".log"))) {
      found.set(path, { dev: info.dev, ino: info.ino });
    }
    return found;
  }

  /** Every regular file of the directory by inode, rotated ones (`orders.log.1`) included. */
  async #indexByIno(): Promise<Map<number, string>> {
    const byIno = new Map<number, string>();
    for (const [path, info] of await this.#statAll(() => true)) byIno.set(info.ino, path);
    return byIno;
  }

  async #statAll(wanted: (name: string) => boolean): Promise<Map<string, Stats>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      // The directory may not exist yet: the writer creates it on its first line.
      if (isErrno(error, "ENOENT")) return new Map();
      throw error;
    }
    const result = new Map<string, Stats>();
    for (const name of names.sort()) {
      if (!wanted(name)) continue;
      const path = join(this.dir, name);
      const info = await this.#guard(path, () => statIfPresent(path));
      if (info?.isFile()) result.set(path, info);
    }
    return result;
  }

  /** Runs an I/O step of one file; with `onError`, a failure skips the file for this pass. */
  async #guard<T>(path: string, step: () => Promise<T>): Promise<T | undefined> {
    if (this.#onError === undefined) return step();
    try {
      return await step();
    } catch (error) {
      this.#onError(error, path);
      return undefined;
    }
  }
}

/**
 * Makes a {@linkcode Tailer}.
 *
 * @example
 * ```ts
 * const tailer = createTailer({ dir: "data/logs", state: createIngestState(), maxLineBytes: 65536 });
 * ```
 */
export function createTailer(options: TailerOptions): Tailer {
  return new Tailer(options);
}

function committedOffset(file: TrackedFile): number {
  return file.readOffset - file.splitter.pendingBytes;
}

function isSameFile(a: FoundFile, b: FoundFile): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

function idKey(id: FoundFile): string {
  return `${id.dev}:${id.ino}`;
}

async function statIfPresent(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/** Waits `ms`, or less if `signal` aborts; never rejects. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
