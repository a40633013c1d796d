/**
 * Ingests a block of log bytes into a fresh state: the unit of work the
 * exporter's catch-up hands to a worker thread, then merges in file order
 * with {@linkcode mergeState}.
 *
 * Lines are split and limited by the same {@linkcode LineSplitter} the
 * tailer uses, so a block gives what the tailer would have counted for the
 * same bytes. Only complete lines count: bytes after the last newline are
 * left over (see {@linkcode BlockResult.consumedBytes}).
 *
 * @example
 * ```ts
 * import { ingestBlock } from "./ingest_block.ts";
 * const { state, consumedBytes } = ingestBlock(new TextEncoder().encode("not json\n{}\npart"), 1024);
 * state.lines; // { parsed: 0, malformed: 1, rejected: 1, too_long: 0 }
 * consumedBytes; // 12
 * ```
 * @module
 */
import { ingestLine } from "./ingest.ts";
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from "./limits.ts";
import { LineSplitter } from "./line_splitter.ts";
import { createIngestState, type IngestState, type LineResult, type PipelineState } from "./state.ts";

/**
 * Bytes decoded to one string at a time. V8 puts a string over ~128 KiB in
 * its large-object space, on freshly mapped memory, so decoding a block of
 * megabytes at once costs ~3 ms/MB in page faults (a fifth of a worker's
 * time); pieces this size stay in the young generation. Lines cut between
 * two pieces are joined by the splitter.
 */
const DECODE_PIECE_BYTES = 64 * 1024;

/**
 * A line that was counted but not folded, and why.
 *
 * @example
 * ```ts
 * const bad: BadLine = { result: "malformed", problem: "not JSON: Unexpected token" };
 * ```
 */
export interface BadLine {
  result: Exclude<LineResult, "parsed">;
  problem: string;
}

/**
 * What {@linkcode ingestBlock} made of a block; plain data, so it crosses
 * `postMessage` as it is.
 *
 * @example
 * ```ts
 * const result: BlockResult = ingestBlock(bytes, 65536);
 * mergeState(state, result.state);
 * ```
 */
export interface BlockResult {
  /** The block's lines folded into a fresh state; `bytesRead` = `consumedBytes`. */
  state: IngestState;
  /** Bytes up to and including the last newline; the rest is a partial line, not counted. */
  consumedBytes: number;
  /** The first bad lines, at most `maxBadLines` of them; the counters count them all. */
  badLines: BadLine[];
  /**
   * Lines folded into each pipeline of `state`, in the order the pipelines
   * first appear: what {@linkcode fitBlock} counts as dropped for a pipeline
   * that finds no place in the state the block is merged into.
   */
  pipelineLines: Map<string, number>;
}

/**
 * Options of {@linkcode ingestBlock}.
 *
 * @example
 * ```ts
 * ingestBlock(bytes, 65536, { maxBadLines: 0 } satisfies IngestBlockOptions);
 * ```
 */
export interface IngestBlockOptions {
  /** How many bad lines to describe in {@linkcode BlockResult.badLines}. Default 10. */
  maxBadLines?: number;
  /**
   * Applied to the block's own state; put the pipelines the merged state
   * tracks in `alwaysFit`. Default {@linkcode DEFAULT_INGEST_LIMITS}.
   */
  limits?: IngestLimits;
  /** The exporter's clock when the block was read; see {@linkcode ingestLine}. */
  nowMs?: number;
}

/**
 * Splits `bytes` into lines, ingests each complete one into a fresh state
 * (a line longer than `maxLineBytes` counts as `too_long`) and describes the
 * first bad lines. Pure: the same bytes always give the same result.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"ts":"2026-11-23T10:00:00.000Z"}\n');
 * ingestBlock(bytes, 65536).state.lines.rejected; // 1
 * ```
 */
export function ingestBlock(bytes: Uint8Array, maxLineBytes: number, options: IngestBlockOptions = {}): BlockResult {
  const maxBadLines = options.maxBadLines ?? 10;
  const state = createIngestState();
  const badLines: BadLine[] = [];
  const pipelineLines = new Map<string, number>();
  const limits = options.limits ?? DEFAULT_INGEST_LIMITS;
  const splitter = new LineSplitter(maxLineBytes);
  const onLine = (line: string | null): void => {
    const outcome = ingestLine(state, line, limits, options.nowMs);
    if (outcome.result === "parsed") {
      const pipeline = outcome.event.pipeline;
      pipelineLines.set(pipeline, (pipelineLines.get(pipeline) ?? 0) + 1);
    } else if (outcome.result !== "blank" && outcome.result !== "dropped" && badLines.length < maxBadLines) {
      badLines.push({ result: outcome.result, problem: outcome.problem });
    }
  };
  for (let from = 0; from < bytes.length; from += DECODE_PIECE_BYTES) {
    splitter.push(bytes.subarray(from, from + DECODE_PIECE_BYTES), onLine);
  }
  const consumedBytes = bytes.length - splitter.pendingBytes;
  state.bytesRead = consumedBytes;
  return { state, consumedBytes, badLines, pipelineLines };
}

/**
 * Makes a block fit the pipeline cap of the state it is about to be merged
 * into (call it right before {@linkcode mergeState}): pipelines new to
 * `into` take the places left, in the order they first appear in the block,
 * as a sequential read would give them; the lines of the others move to
 * `dropped.pipeline_limit`. Changes and returns `block`.
 *
 * Limit: blocks are folded in parallel, each told the pipelines tracked
 * when it was sent. At the cap, a pipeline first seen in a block still in
 * flight then counts as new in a later block, so which pipelines take the
 * last places (never how many lines are counted) can depend on timing;
 * `errorTypesFolded` may include folds of a pipeline dropped here.
 *
 * @example
 * ```ts
 * const fitted = fitBlock(state, result, limits);
 * mergeState(state, fitted.state);
 * ```
 */
export function fitBlock(into: IngestState, block: BlockResult, limits: IngestLimits): BlockResult {
  let places = limits.maxPipelines - Object.keys(into.pipelines).length;
  const kept: Record<string, PipelineState> = {};
  const keptRuns: IngestState["runs"] = {};
  let droppedAny = false;
  for (const [name, lines] of block.pipelineLines) {
    const fits = Object.hasOwn(into.pipelines, name) || limits.alwaysFit?.has(name) === true || places-- > 0;
    if (fits) {
      kept[name] = block.state.pipelines[name]!;
      // A pipeline's runs go with it: a line-by-line read folds neither for a pipeline past the cap.
      if (Object.hasOwn(block.state.runs, name)) keptRuns[name] = block.state.runs[name]!;
      continue;
    }
    droppedAny = true;
    block.state.dropped.pipeline_limit += lines;
    block.pipelineLines.delete(name);
  }
  // New objects rather than deletes: pipelines are never removed from a state (see limits.ts).
  if (droppedAny) {
    block.state.pipelines = kept;
    block.state.runs = keptRuns;
  }
  return block;
}
