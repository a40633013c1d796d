/**
 * The oracle the exporter's tests hold it to: the state a reader would reach
 * by reading every complete line of the logs once, in order.
 *
 * It does no I/O and keeps no state between calls, so a test can write logs
 * any way it likes (rotate, truncate, crash the reader) and still compare
 * against "what was written", concatenated.
 *
 * @example
 * ```ts
 * import { recount } from "./recount.ts";
 * const state = recount(["not json\n", "{}\npartial"], { maxLineBytes: 1024 });
 * state.lines; // { parsed: 0, malformed: 1, rejected: 1, too_long: 0 }
 * state.bytesRead; // 12: the partial line is not counted
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { ingestLine } from "../lib/etl/ingest.ts";
import { createIngestState, type IngestState } from "../lib/etl/state.ts";

/**
 * Options of {@linkcode recount}.
 *
 * @example
 * ```ts
 * recount(text, { maxLineBytes: 64 * 1024 } satisfies RecountOptions);
 * ```
 */
export interface RecountOptions {
  /** Same limit as the reader's `LineSplitter`: longer lines count as `too_long`. */
  maxLineBytes: number;
}

/**
 * Folds every complete line of `segments` into a fresh state.
 *
 * Each segment is one stretch of a file that a reader sees as a whole: a
 * file's content up to a rotation or a truncation. A segment's unterminated
 * tail is not a line (the reader never gets its newline), so segments are
 * split separately rather than joined. `bytesRead` counts the bytes of
 * complete lines, newlines included, which is what a reader that
 * checkpoints at line boundaries counts.
 *
 * @example
 * ```ts
 * // A partial line cut off by a truncation never completes.
 * recount(['{"a":', '1}\n'], { maxLineBytes: 64 }).lines.malformed; // 1 ('1}')
 * ```
 */
export function recount(segments: string | readonly string[], options: RecountOptions): IngestState {
  const state = createIngestState();
  for (const segment of typeof segments === "string" ? [segments] : segments) {
    recountSegment(state, segment, options.maxLineBytes);
  }
  return state;
}

function recountSegment(state: IngestState, segment: string, maxLineBytes: number): void {
  const pieces = segment.split("\n");
  // The last piece has no newline after it: a partial line (or "" after a final newline).
  for (let i = 0; i < pieces.length - 1; i++) {
    const line = pieces[i]!;
    const bytes = Buffer.byteLength(line, "utf8");
    ingestLine(state, bytes > maxLineBytes ? null : line);
    state.bytesRead += bytes + 1;
  }
}
