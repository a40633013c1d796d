/**
 * The exporter's one reader of its log directory: the start-up catch-up,
 * `--once` and the live tailing all read through it, so there is one answer
 * to "which files, from where". Split as mtail's tailer is:
 *
 * - discovery ({@link ./log_discovery.ts}): every `<name>.log` and its
 *   rotation set (`.log.1`, `.log-20261201`, …; not `.gz` and the like),
 *   each set oldest first;
 * - one stream per file ({@link ./log_stream.ts}): identity (device, inode,
 *   first bytes), position, truncation;
 * - line decoding ({@link ../../lib/etl/line_splitter.ts}), then
 *   `ingestLine` into the state within the limits and the clock given
 *   ({@link ../../lib/etl/limits.ts}), or, in a catch-up, blocks parsed on
 *   worker threads within the same ones ({@link ./bulk_ingest.ts});
 * - the wake-up ({@link ./log_watch.ts}): file-system events, with the poll
 *   as a safety net.
 *
 * A file is read once, first byte to last, whatever it is called by then and
 * however many rotations happened between two polls or while the exporter was
 * down, as long as it is still in the directory: files are known by identity,
 * not by name, and a handle stays open on each live file, so a file deleted
 * after it was seen is still read to its end. A fresh start (no checkpoint)
 * reads every file of each rotation set, oldest first, so the counters do not
 * depend on when rotation happened. Copytruncate: a truncated file's position
 * waits, with its fingerprint, for the copy (a new file that starts with the
 * same bytes), which is then read from that position; a copy seen before the
 * truncation is held until it is clear whether it is one. What is lost (a
 * file that left the directory before it was read to its end, whose copy
 * never showed up, or that a checkpoint knew of and a restart cannot find) is
 * counted in `state.bytesLost` (`etl_exporter_log_bytes_lost_total`), never silently.
 *
 * The state and the positions move together: at every `await` inside a poll
 * the state holds exactly the lines before each file's committed offset, so
 * a checkpoint of `state` + {@linkcode Tailer.positions} taken at any moment
 * (synchronously, e.g. from a timer) restores without losing or
 * double-counting a line; `state.bytesRead` counts the bytes of complete
 * lines only. Only {@linkcode Tailer.catchUp} runs ahead of its positions
 * while it parses on worker threads: take no checkpoint before it resolves.
 *
 * @example
 * ```ts
 * import { createIngestState } from "../../lib/etl/state.ts";
 * import { createTailer } from "./tailer.ts";
 * const state = createIngestState();
 * const tailer = createTailer({ dir: "data/logs", state, maxLineBytes: 64 * 1024 });
 * await tailer.catchUp({ workers: 2 });
 * state.lines.parsed; // lines read so far
 * tailer.positions(); // { "data/logs/orders.log": { dev, ino, fingerprint, offset, size } }
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { basename } from "node:path";
import { ingestLine, type LineOutcome } from "../../lib/etl/ingest.ts";
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from "../../lib/etl/limits.ts";
import type { IngestState } from "../../lib/etl/state.ts";
import { type BulkReadOptions, createBulkReader } from "./bulk_ingest.ts";
import { discoverLogFiles, type FoundFile } from "./log_discovery.ts";
import { FINGERPRINT_BYTES, fingerprintMatches, LogStream } from "./log_stream.ts";
import { watchLogDir } from "./log_watch.ts";

/**
 * Where reading of one file stands, and how to know the file again:
 * `offset` is the start of its first incomplete line, `fingerprint` its first
 * bytes (base64), `size` its size when last looked at.
 *
 * @example
 * ```ts
 * const position: FilePosition = { ino: 5308446, dev: 65024, fingerprint: "eyJ2IjoxLCJ0cyI6", offset: 4096, size: 4200 };
 * ```
 */
export interface FilePosition {
  ino: number;
  dev: number;
  fingerprint: string;
  offset: number;
  size: number;
  /** Its file was truncated: only a copy of it (a rotated name, the same first bytes) holds the rest. */
  truncated?: true;
}

/**
 * Counters the exporter exposes as metrics; they restart at 0 with the process.
 *
 * @example
 * ```ts
 * const facts = { rotations: tailer.stats.rotations, truncations: tailer.stats.truncations };
 * ```
 */
export interface TailerStats {
  /** Files that changed their name or left the directory (renamed away or deleted, also while the exporter was down). */
  rotations: number;
  /** Files found truncated or rewritten in place; read again from 0. */
  truncations: number;
  /** Saved positions whose file was nowhere in the directory on restore (what they had not read is in `state.bytesLost`). */
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
  /** The directory whose logs are read (not recursively). */
  dir: string;
  /** Folded into in place; pass the state of the checkpoint the positions come from. */
  state: IngestState;
  /** Longer lines are skipped and counted as `too_long`, never held in memory whole. */
  maxLineBytes: number;
  /** Pipeline cap and clock skew (see lib/etl/limits.ts), in tailing and catch-up alike. Default {@linkcode DEFAULT_INGEST_LIMITS}. */
  limits?: IngestLimits;
  /** The exporter's clock, checked against each line's time. Default `Date.now`. */
  clock?: () => number;
  /** Bytes read at a time while tailing. Default 1 MiB. */
  chunkBytes?: number;
  /** Positions from a checkpoint (see {@linkcode Tailer.positions}); applied on the first poll. */
  positions?: Readonly<Record<string, FilePosition>>;
  /**
   * Sees every line's outcome while tailing, e.g. to log why a line was
   * rejected. Called in the middle of a chunk: do not take a checkpoint from here.
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

/** Scans a stream with a name must miss before it counts as gone: a rename can race a scan. */
const ABSENT_SCANS = 2;

/** A position known by identity only: from a checkpoint, or a truncated file's awaiting its copy. */
interface PendingPosition {
  label: string;
  dev: number;
  ino: number;
  fingerprint: Buffer;
  offset: number;
  size: number;
  /** From a checkpoint: the same inode with the same first bytes is the file. Else only a copy matches. */
  byInode: boolean;
  /** The poll it was made in; it waits one more scan for its file before it is a loss. */
  poll: number;
}

/** Reads the logs of one directory; see the module documentation. */
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
  /** Streams by `dev:ino`. */
  readonly #streams = new Map<string, LogStream>();
  #pending: PendingPosition[] = [];
  /** Polls run one after another: two reading one handle at once would count lines twice. */
  #queue: Promise<void> = Promise.resolve();
  #polls = 0;
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
    for (const [label, saved] of Object.entries(options.positions ?? {})) {
      // An empty file was known by nothing: whatever has its inode now is new.
      if (saved.size === 0 && saved.offset === 0) continue;
      this.#pending.push({
        label,
        dev: saved.dev,
        ino: saved.ino,
        fingerprint: Buffer.from(saved.fingerprint, "base64"),
        offset: saved.offset,
        size: Math.max(saved.size, saved.offset),
        byInode: saved.truncated !== true,
        poll: 0,
      });
    }
  }

  /**
   * One pass: reads everything new in every file, following renames,
   * truncations and deletions. Calls are queued, never overlap.
   *
   * @example
   * ```ts
   * await tailer.poll();
   * ```
   */
  poll(): Promise<void> {
    return this.#enqueue(() => this.#pollOnce(undefined));
  }

  /**
   * A poll for a backlog: a large one is parsed on worker threads (see
   * {@link ./bulk_ingest.ts}); the state equals what {@linkcode poll} makes.
   * Positions run ahead of the state until it resolves.
   *
   * @example
   * ```ts
   * await tailer.catchUp({ workers: 2, onBadLine: (bad, file) => console.warn(file, bad.problem) });
   * ```
   */
  catchUp(options: BulkReadOptions = {}): Promise<void> {
    return this.#enqueue(() => this.#pollOnce(options));
  }

  /**
   * Polls when the file system reports a change in the directory (and every
   * `intervalMs` in any case, for file systems that do not report and events
   * that were missed) until `signal` is aborted; resolves after the last poll.
   * A poll that throws (only without `onError`) rejects it.
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
    const watch = watchLogDir(this.dir);
    try {
      while (!signal.aborted) {
        await this.poll();
        await watch.next(intervalMs, signal);
      }
    } finally {
      watch.close();
    }
  }

  /** Files being read (or waiting for their copy). */
  get fileCount(): number {
    return this.#streams.size + this.#pending.length;
  }

  /**
   * The committed position of every file being read: what a checkpoint saves
   * next to the state. Keys are the paths the files were last seen at (made
   * unique), only a hint: files are found again by identity. Consistent with
   * the state whenever it is called, also in the middle of a poll.
   *
   * @example
   * ```ts
   * const checkpoint = { state: JSON.parse(JSON.stringify(tailer.state)), files: tailer.positions() };
   * ```
   */
  positions(): Record<string, FilePosition> {
    const positions: Record<string, FilePosition> = {};
    const put = (label: string, position: FilePosition): void => {
      let key = label;
      for (let n = 2; Object.hasOwn(positions, key); n++) key = `${label}#${n}`;
      positions[key] = position;
    };
    for (const p of this.#pending) {
      const fingerprint = p.fingerprint.toString("base64");
      put(p.label, { dev: p.dev, ino: p.ino, fingerprint, offset: p.offset, size: p.size, ...(p.byInode ? {} : { truncated: true }) });
    }
    for (const stream of this.#streams.values()) {
      // A copy not settled yet resumes where its original stands: the bytes before are counted.
      const offset = stream.copyOf === undefined ? stream.committed : Math.min(stream.copyOf.committed, stream.knownSize);
      put(stream.path, {
        dev: stream.dev,
        ino: stream.ino,
        fingerprint: stream.fingerprint.toString("base64"),
        offset,
        size: Math.max(stream.knownSize, offset),
      });
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
    await this.#queue.catch(() => undefined);
    this.#closed = true;
    for (const stream of this.#streams.values()) await stream.close();
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step);
    // A failed poll must not wedge the ones queued after it.
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #pollOnce(bulk: BulkReadOptions | undefined): Promise<void> {
    if (this.#closed) throw new Error("Tailer is closed");
    this.#polls += 1;
    const found = await this.#guard(this.dir, () => discoverLogFiles(this.dir, this.#onError));
    // No directory (or it could not be read): nothing is known of its files, so nothing changes.
    if (found === undefined) return;
    const order = await this.#identify(found);
    this.#settlePending();
    if (bulk !== undefined) await this.#readBulk(order, bulk);
    else for (const stream of order) await this.#guard(stream.path, () => this.#read(stream));
    this.#settleCopies();
    for (const stream of order) {
      // A rotated file read to its end gives its handle back (it is opened again if it grows),
      // unless it is too short for its first bytes to tell it from a file that reuses its inode.
      const idle = !stream.live && stream.readOffset >= stream.knownSize && stream.fingerprint.length >= FINGERPRINT_BYTES;
      if (idle && stream.handle !== undefined) await stream.close();
    }
  }

  /**
   * Matches a scan to the streams: known files get their new names, files
   * gone are read to their end and let go, truncations are noticed, new files
   * get a stream (at a saved position if one is theirs). Returns the streams
   * to read, in the scan's order (oldest first per set).
   */
  async #identify(found: readonly FoundFile[]): Promise<LogStream[]> {
    const seen = new Set<string>();
    const slots: (LogStream | FoundFile)[] = [];
    for (const file of found) {
      const key = `${file.dev}:${file.ino}`;
      // A hard link to a file already listed would count its lines twice.
      if (seen.has(key)) continue;
      seen.add(key);
      const stream = this.#streams.get(key);
      if (stream === undefined) {
        slots.push(file);
        continue;
      }
      if (stream.path !== file.path) this.stats.rotations += 1;
      stream.path = file.path;
      stream.set = file.set;
      stream.absentScans = 0;
      slots.push(stream);
    }
    for (const [key, stream] of this.#streams) {
      if (!seen.has(key)) await this.#guard(stream.path, () => this.#absent(key, stream));
    }

    const order: LogStream[] = [];
    const news: FoundFile[] = [];
    for (const slot of slots) {
      if (!(slot instanceof LogStream)) {
        news.push(slot);
        continue;
      }
      const verdict = await this.#guard(slot.path, () => this.#checkInPlace(slot, found));
      if (verdict === "same" && this.#streams.has(`${slot.dev}:${slot.ino}`)) order.push(slot);
      if (verdict !== "replaced") continue;
      // Deleted while its handle was closed, and its inode taken by a new file: that one is new.
      this.stats.rotations += 1;
      this.#lose(slot.knownSize - slot.committed);
      this.#streams.delete(`${slot.dev}:${slot.ino}`);
      news.push(found.find((file) => file.ino === slot.ino && file.dev === slot.dev)!);
    }
    // New files after the truncations are known: a copy finds its original's position.
    const fresh: LogStream[] = [];
    for (const slot of news) {
      const stream = await this.#guard(slot.path, () => LogStream.open(slot.path, slot.set, this.maxLineBytes));
      if (stream !== undefined && !this.#streams.has(`${stream.dev}:${stream.ino}`)) fresh.push(stream);
      else await stream?.close();
    }
    for (const stream of fresh) this.#startFrom(stream, "inode", fresh);
    for (const stream of fresh) if (!this.#streams.has(`${stream.dev}:${stream.ino}`)) this.#startFrom(stream, "fingerprint", fresh);
    // Back in scan order, new and known together.
    const rank = new Map(found.map((file, i) => [`${file.dev}:${file.ino}`, i]));
    for (const stream of fresh) order.push(stream);
    order.sort((a, b) => rank.get(`${a.dev}:${a.ino}`)! - rank.get(`${b.dev}:${b.ino}`)!);
    return order;
  }

  /**
   * Gives a new file its stream, in two passes over the new files. By inode:
   * a saved position of the same inode whose first bytes it carries (a file
   * renamed, or untouched, while the exporter was down). By fingerprint: any
   * waiting position whose first bytes it carries (the copy of a truncated
   * file); else, starting like the live file of its set, it is held as its
   * possible copy (until that file is truncated, or read past the copy's
   * end); else it is read from 0. Only a file with a rotated name can be a copy.
   */
  #startFrom(stream: LogStream, pass: "inode" | "fingerprint", fresh: readonly LogStream[]): void {
    // A copy has a rotated name; a new live file that starts like another is a new file.
    const index = pass === "fingerprint" && stream.live ? -1 : this.#pending.findIndex(
      (p) =>
        // By fingerprint alone only with one: a checkpoint of version 1 saved none.
        (pass === "fingerprint" ? p.fingerprint.length > 0 : p.byInode && p.ino === stream.ino) &&
        stream.knownSize >= p.offset && fingerprintMatches(stream.fingerprint, p.fingerprint),
    );
    if (index >= 0) {
      const [p] = this.#pending.splice(index, 1);
      stream.readOffset = p!.offset;
      // Renamed while we were down (labels are paths; the directory may be spelled differently now).
      if (pass === "inode" && basename(p!.label) !== basename(stream.path)) this.stats.rotations += 1;
    } else if (pass === "inode") {
      // Its inode, not its content: truncated (or the inode reused) while we were down.
      for (const p of this.#pending) {
        if (!p.byInode || p.ino !== stream.ino) continue;
        // Its copy, if any, is here already (copied before truncating): no scan more to wait.
        p.byInode = false;
        this.stats.truncations += 1;
      }
      return;
    } else if (!stream.live) {
      // The live file of its own set, known or new: a copytruncate copies it before truncating it.
      for (const other of [...this.#streams.values(), ...fresh]) {
        if (other === stream || !other.live || other.set !== stream.set || other.copyOf !== undefined) continue;
        if (other.fingerprint.length > 0 && fingerprintMatches(stream.fingerprint, other.fingerprint)) {
          stream.copyOf = other;
          break;
        }
      }
    }
    // Registered with its start offset and nothing counted, so positions() stays true.
    this.#streams.set(`${stream.dev}:${stream.ino}`, stream);
  }

  /** A known file the scan did not list: read it to its end through its handle, then let it go. */
  async #absent(key: string, stream: LogStream): Promise<void> {
    let linked = false;
    if (stream.handle !== undefined) {
      const look = await stream.look();
      linked = look.linked;
      if (!look.truncated) await this.#read(stream);
    }
    stream.absentScans += 1;
    // Still linked somewhere (renamed while the directory was read): give it another scan.
    if ((linked || stream.handle === undefined) && stream.absentScans < ABSENT_SCANS) return;
    this.stats.rotations += 1;
    this.#lose(Math.max(stream.knownSize, stream.readOffset) - stream.committed);
    this.#streams.delete(key);
    await stream.close();
  }

  /**
   * Checks a known file in place: truncated or rewritten, its position waits
   * for a copy (or the copy already held) and it is read again from 0.
   * "unknown" when it could not be looked at now; "replaced" when another
   * file has its inode.
   */
  async #checkInPlace(stream: LogStream, found: readonly FoundFile[]): Promise<"same" | "unknown" | "replaced"> {
    let reopened = false;
    if (stream.handle === undefined) {
      // Closed and unchanged since: not even a new file that reuses its inode (that would change ctime).
      const file = found.find((file) => file.ino === stream.ino && file.dev === stream.dev);
      if (file === undefined || (file.size === stream.knownSize && file.changedMs === stream.changedMs)) return "same";
      if (!(await stream.reopen())) return "unknown";
      reopened = true;
    }
    const before = { fingerprint: stream.fingerprint, committed: stream.committed, size: stream.knownSize };
    const { truncated } = await stream.look();
    if (!truncated) return "same";
    if (reopened) {
      // Not held open, so its inode may have been freed and reused: another file, not a truncation.
      stream.knownSize = before.size;
      await stream.close();
      return "replaced";
    }
    // From here to restart() without an await: positions() shows either the old offset or 0 with the copy's.
    this.stats.truncations += 1;
    const copy = [...this.#streams.values()].find((other) => other.copyOf === stream);
    if (copy !== undefined) {
      copy.copyOf = undefined;
      copy.readOffset = Math.min(before.committed, copy.knownSize);
    } else if (before.committed > 0 || before.size > 0) {
      this.#pending.push({
        label: stream.path,
        dev: stream.dev,
        ino: stream.ino,
        fingerprint: before.fingerprint,
        offset: before.committed,
        size: Math.max(before.size, before.committed),
        byInode: false,
        poll: this.#polls,
      });
    }
    for (const other of this.#streams.values()) if (other.copyOf === stream) other.copyOf = undefined;
    stream.restart();
    return "same";
  }

  /** Positions that waited a scan for their file in vain: what they had not read is lost, unless a copy holds it. */
  #settlePending(): void {
    const kept: PendingPosition[] = [];
    const lost: PendingPosition[] = [];
    for (const p of this.#pending) {
      if (p.poll === this.#polls) {
        kept.push(p);
        continue;
      }
      if (p.byInode) this.stats.restoreMisses += 1;
      // Its bytes are still here when a file being read starts like it and is as long (a copy of it).
      const copied = p.fingerprint.length > 0 &&
        [...this.#streams.values()].some((s) => s.knownSize >= p.size && fingerprintMatches(s.fingerprint, p.fingerprint));
      if (copied) continue;
      // A file and its copy (saved while the copy was held) are the same bytes, lost once.
      const same = lost.find((q) => q.fingerprint.equals(p.fingerprint) && q.offset === p.offset);
      if (same !== undefined) {
        this.#lose(p.size - same.size);
        same.size = Math.max(same.size, p.size);
        continue;
      }
      lost.push({ ...p });
      this.#lose(p.size - p.offset);
    }
    this.#pending = kept;
  }

  /** Held copies whose original has been read (to a line's end) past their end: nothing in them is new. */
  #settleCopies(): void {
    for (const stream of this.#streams.values()) {
      const original = stream.copyOf;
      if (original === undefined) continue;
      const gone = !this.#streams.has(`${original.dev}:${original.ino}`);
      // Committed, not merely read: a partial line of the original may still end in the copy only.
      if (gone || original.committed >= stream.knownSize) {
        stream.copyOf = undefined;
        stream.readOffset = stream.knownSize;
      }
    }
  }

  #lose(bytes: number): void {
    // Into the state, with the positions: a checkpoint holds the loss and the position dropped together.
    if (bytes > 0) this.state.bytesLost += bytes;
  }

  /** Reads a stream from its offset up to the size it has now. */
  async #read(stream: LogStream): Promise<void> {
    if (stream.copyOf !== undefined) return;
    if (stream.handle === undefined) {
      if (stream.readOffset >= stream.knownSize || !(await stream.reopen())) return;
    }
    const { size } = await stream.handle!.stat();
    stream.knownSize = size;
    // Stops at the size seen now: a file written faster than we read cannot hold the poll forever.
    await stream.readTo(size, this.#buffer, (chunk) => this.#consume(stream, chunk));
  }

  /** Ingests the lines a chunk completes; synchronous so state and offset never disagree at an await. */
  #consume(stream: LogStream, chunk: Buffer): void {
    const before = stream.committed - chunk.length;
    stream.splitter.push(chunk, (line) => {
      const outcome = ingestLine(this.state, line, this.#limits, this.#clock());
      this.#onLine?.(outcome, stream.path);
    });
    // Bytes of complete lines only: a pending partial line is read again after a restore.
    this.state.bytesRead += stream.committed - before;
  }

  /** Reads every stream's backlog through the bulk reader (worker threads when it is large). */
  async #readBulk(order: readonly LogStream[], options: BulkReadOptions): Promise<void> {
    let backlog = 0;
    for (const stream of order) {
      if (stream.copyOf !== undefined) continue;
      await this.#guard(stream.path, async () => {
        if (stream.handle === undefined && stream.readOffset < stream.knownSize) await stream.reopen();
        if (stream.handle !== undefined) stream.knownSize = (await stream.handle.stat()).size;
      });
      if (stream.handle !== undefined) backlog += Math.max(0, stream.knownSize - stream.readOffset);
    }
    const reader = await createBulkReader(this.state, this.maxLineBytes, backlog, options, { limits: this.#limits, clock: this.#clock });
    try {
      for (const stream of order) {
        if (stream.handle === undefined || stream.copyOf !== undefined) continue;
        await this.#guard(stream.path, () => reader.read(stream, stream.knownSize));
      }
    } finally {
      await reader.close();
    }
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
