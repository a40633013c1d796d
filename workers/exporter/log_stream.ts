/**
 * One stream per log file, the second part of the exporter's log reader:
 * the file's identity (device, inode and a fingerprint of its first bytes,
 * so that a reused inode is not taken for the old file), where reading
 * stands, and its line splitter. The reader ({@link ./tailer.ts}) decides
 * which streams exist; a stream only reads its own file.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { LogStream } from "./log_stream.ts";
 * const stream = await LogStream.open("data/logs/orders.log", "orders.log", 65536);
 * await stream?.readTo(stream.knownSize, Buffer.alloc(65536), (chunk) => console.log(chunk.length));
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { type FileHandle, open } from "node:fs/promises";
import { basename } from "node:path";
import { LineSplitter } from "../../lib/etl/line_splitter.ts";
import { isErrno } from "./log_discovery.ts";

/** Bytes at the start of a file that tell it from another file (Vector and Filebeat take a similar prefix). */
export const FINGERPRINT_BYTES = 64;

/**
 * Whether a file whose first bytes are `head` can be the file fingerprinted
 * as `fingerprint` (taken when it may have been shorter).
 *
 * @example
 * ```ts
 * fingerprintMatches(Buffer.from("abcdef"), Buffer.from("abc")); // true
 * ```
 */
export function fingerprintMatches(head: Uint8Array, fingerprint: Uint8Array): boolean {
  if (head.length < fingerprint.length) return false;
  return Buffer.compare(head.subarray(0, fingerprint.length), fingerprint) === 0;
}

/** One file being read; see the module documentation. */
export class LogStream {
  /** Where the last scan saw it; updated when it is renamed within the directory. */
  path: string;
  /** The `<name>.log` of its rotation set. */
  set: string;
  readonly dev: number;
  readonly ino: number;
  /** Its first bytes, up to {@linkcode FINGERPRINT_BYTES} (fewer while the file is shorter). */
  fingerprint: Buffer;
  /** Open while the file may still grow or be deleted unread; closed once a rotated file is read to its end. */
  handle: FileHandle | undefined;
  /** Next byte to read: the committed offset plus the splitter's pending bytes. */
  readOffset = 0;
  /** Its size when last looked at. */
  knownSize: number;
  /** Its inode's change time when last looked at (see `FoundFile.changedMs`). */
  changedMs: number;
  readonly splitter: LineSplitter;
  /** Scans in a row that did not find it (a rename may race a scan). */
  absentScans = 0;
  /** Set while it may be a copy of that stream's file (copytruncate), not read until that is settled. */
  copyOf: LogStream | undefined;

  private constructor(
    path: string,
    set: string,
    handle: FileHandle,
    info: { dev: number; ino: number; size: number; ctimeMs: number },
    head: Buffer,
    maxLineBytes: number,
  ) {
    this.path = path;
    this.set = set;
    this.handle = handle;
    this.dev = info.dev;
    this.ino = info.ino;
    this.knownSize = info.size;
    this.changedMs = info.ctimeMs;
    this.fingerprint = head;
    this.splitter = new LineSplitter(maxLineBytes);
  }

  /**
   * Opens a file at offset 0 with the identity of its handle (the path may
   * have been replaced since a scan); `undefined` if it is gone or not a
   * regular file.
   */
  static async open(path: string, set: string, maxLineBytes: number): Promise<LogStream | undefined> {
    const handle = await openIfPresent(path);
    if (handle === undefined) return undefined;
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return undefined;
      }
      const head = await readHead(handle);
      return new LogStream(path, set, handle, info, head, maxLineBytes);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** The offset after the last complete line read: where a restart resumes. */
  get committed(): number {
    return this.readOffset - this.splitter.pendingBytes;
  }

  /** Whether it is its set's live `<name>.log` (others are rotated, written no more as a rule). */
  get live(): boolean {
    return basename(this.path) === this.set;
  }

  /** Opens its file again by path; false if the path now holds another file. */
  async reopen(): Promise<boolean> {
    if (this.handle !== undefined) return true;
    const handle = await openIfPresent(this.path);
    if (handle === undefined) return false;
    const info = await handle.stat().catch(async (error) => {
      await handle.close().catch(() => undefined);
      throw error;
    });
    if (info.ino !== this.ino || info.dev !== this.dev) {
      await handle.close();
      return false;
    }
    this.handle = handle;
    return true;
  }

  /**
   * Looks at the file through its handle: its size now, whether it still
   * has a name, and whether it was truncated or rewritten in place (shorter
   * than what was read, or its first bytes changed). The fingerprint grows
   * while the file is shorter than {@linkcode FINGERPRINT_BYTES}.
   */
  async look(): Promise<{ size: number; linked: boolean; truncated: boolean }> {
    const handle = this.handle!;
    const info = await handle.stat();
    const head = await readHead(handle);
    const truncated = info.size < this.readOffset || !fingerprintMatches(head, this.fingerprint);
    if (!truncated && head.length > this.fingerprint.length) this.fingerprint = head;
    if (truncated) this.fingerprint = head;
    this.knownSize = info.size;
    this.changedMs = info.ctimeMs;
    return { size: info.size, linked: info.nlink > 0, truncated };
  }

  /** Starts over at 0: the content read so far is gone (truncated in place). */
  restart(): void {
    this.readOffset = 0;
    this.splitter.reset();
  }

  /**
   * Reads from `readOffset` up to `end` through `buffer`, handing each chunk
   * to `consume` synchronously right after `readOffset` moved past it.
   */
  async readTo(end: number, buffer: Buffer, consume: (chunk: Buffer) => void): Promise<void> {
    const handle = this.handle!;
    while (this.readOffset < end) {
      const want = Math.min(buffer.length, end - this.readOffset);
      const { bytesRead } = await handle.read(buffer, 0, want, this.readOffset);
      if (bytesRead === 0) break;
      this.readOffset += bytesRead;
      consume(buffer.subarray(0, bytesRead));
    }
  }

  /** Lets go of the handle; the stream and its position stay. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}

async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, "r");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

async function readHead(handle: FileHandle): Promise<Buffer> {
  const head = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(head, 0, FINGERPRINT_BYTES, 0);
  return head.subarray(0, bytesRead);
}
