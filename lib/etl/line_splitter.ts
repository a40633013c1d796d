/**
 * Splits a byte stream into complete lines with bounded memory.
 *
 * A partial last line is held back until its newline arrives; a line longer
 * than the limit is dropped as it streams (never buffered whole) and reported
 * once, when its newline arrives. `pendingBytes` tells how many bytes read so
 * far are not yet part of a complete line, so a reader can checkpoint the
 * offset of the last complete line: `offsetRead - pendingBytes`.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./line_splitter.ts";
 * const splitter = new LineSplitter(1024);
 * const lines: (string | null)[] = [];
 * splitter.push(new TextEncoder().encode('{"a":1}\n{"b"'), (l) => lines.push(l));
 * lines; // ['{"a":1}']
 * splitter.pendingBytes; // 4
 * ```
 * @module
 */
import * as nodeBuffer from "node:buffer";

const { Buffer } = nodeBuffer;
type Buffer = nodeBuffer.Buffer;
// Where the runtime has it (Node 20, Deno), a vectorised ASCII check lets pure-ASCII
// chunks skip UTF-8 decoding: latin1 decoding of ASCII gives the same string, faster.
const isAscii: ((bytes: Uint8Array) => boolean) | undefined = (nodeBuffer as { isAscii?: (b: Uint8Array) => boolean }).isAscii;

const NEWLINE = 0x0a;

/** Receives each complete line without its newline, or `null` for a line over the limit. */
export type LineHandler = (line: string | null) => void;

/** Stateful splitter for one stream; reset it when the stream starts over. */
export class LineSplitter {
  readonly maxLineBytes: number;
  #carry: Buffer = Buffer.alloc(0);
  #discarding = false;
  #discardedBytes = 0;

  constructor(maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes pushed that belong to a line whose newline has not arrived yet. */
  get pendingBytes(): number {
    return this.#discarding ? this.#discardedBytes : this.#carry.length;
  }

  /** Forgets any partial line (the stream was truncated or replaced). */
  reset(): void {
    this.#carry = Buffer.alloc(0);
    this.#discarding = false;
    this.#discardedBytes = 0;
  }

  /** Feeds bytes; calls `onLine` for every line completed by them. */
  push(chunk: Uint8Array, onLine: LineHandler): void {
    this.pushBytes(chunk, (run) => {
      if (run === null) return onLine(null);
      // Decode all complete lines at once: far cheaper than one decode per line.
      const text = decode(Buffer.from(run.buffer, run.byteOffset, run.byteLength - 1));
      let from = 0;
      for (;;) {
        const to = text.indexOf("\n", from);
        const line = to === -1 ? text.slice(from) : text.slice(from, to);
        this.#emitText(line, onLine);
        if (to === -1) break;
        from = to + 1;
      }
    });
  }

  /**
   * Feeds bytes without decoding them: calls `onRun` with each run of
   * complete lines (newlines included; a view into `chunk` where it can be)
   * or with `null` for a line over the limit that crossed a chunk boundary.
   * `streamBytes` is how many bytes of the stream the call completes, for a
   * reader that tracks its offset. Lines within one run are not checked
   * against the limit: whoever decodes the run does that (as `push` does).
   */
  pushBytes(chunk: Uint8Array, onRun: (run: Uint8Array | null, streamBytes: number) => void): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    if (this.#discarding) {
      const nl = bytes.indexOf(NEWLINE);
      if (nl === -1) {
        this.#discardedBytes += bytes.length;
        return;
      }
      const skipped = this.#discardedBytes + nl + 1;
      this.#discarding = false;
      this.#discardedBytes = 0;
      onRun(null, skipped);
      start = nl + 1;
    } else if (this.#carry.length > 0) {
      const nl = bytes.indexOf(NEWLINE);
      if (nl === -1) {
        this.#holdBack(Buffer.concat([this.#carry, bytes]));
        return;
      }
      const carried = this.#carry;
      this.#carry = Buffer.alloc(0);
      const length = carried.length + nl;
      if (length > this.maxLineBytes) onRun(null, length + 1);
      else onRun(Buffer.concat([carried, bytes.subarray(0, nl + 1)]), length + 1);
      start = nl + 1;
    }
    const lastNl = bytes.lastIndexOf(NEWLINE);
    if (lastNl >= start) {
      onRun(bytes.subarray(start, lastNl + 1), lastNl + 1 - start);
      start = lastNl + 1;
    }
    // A copy: the chunk's buffer is reused (or transferred) once this returns.
    if (start < bytes.length) this.#holdBack(Buffer.from(bytes.subarray(start)));
  }

  #holdBack(partial: Buffer): void {
    if (partial.length > this.maxLineBytes) {
      this.#carry = Buffer.alloc(0);
      this.#discarding = true;
      this.#discardedBytes = partial.length;
    } else {
      this.#carry = partial;
    }
  }

  #emitText(line: string, onLine: LineHandler): void {
    // A string's length never exceeds its UTF-8 byte length; count bytes only when it might matter.
    if (line.length * 3 > this.maxLineBytes && Buffer.byteLength(line, "utf8") > this.maxLineBytes) {
      onLine(null);
    } else {
      onLine(line);
    }
  }
}

function decode(bytes: Buffer): string {
  return isAscii !== undefined && isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
}
