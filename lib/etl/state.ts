/**
 * The state the exporter folds the logs into: plain JSON-serialisable data,
 * so a checkpoint is just `JSON.stringify(state)`.
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * const state = createIngestState();
 * state.pipelines; // {} until the first event arrives
 * ```
 * @module
 */
import { KNOWN_ERROR_TYPES } from "./events.ts";
import type { RunState } from "./runs.ts";

/**
 * Upper bounds (seconds) of the processing-duration histogram. The default
 * profile's files take 5–50 s (50–500 records at ~10 records/s).
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600];

/**
 * A duration of the log (`duration_ms`, possibly fractional) in the whole
 * microseconds the state counts in.
 *
 * @example
 * ```ts
 * durationUs(12.5); // 12500
 * ```
 */
export function durationUs(durationMs: number): number {
  return Math.round(durationMs * 1000);
}

/** Seconds kept in the sliding window (the longest window any gauge reads). */
export const WINDOW_SECONDS = 300;

/** Distinct error types kept per pipeline; more fold into `other` (bounded label cardinality). */
export const MAX_ERROR_TYPES = 32;

/** One second of the sliding window. */
export interface WindowSlot {
  /** Epoch second this slot holds; a slot whose second is out of range is empty. */
  second: number;
  records: number;
  /** Successful files finished in this second, and their summed duration in whole microseconds. */
  files: number;
  durationUs: number;
}

/** What is known of one pipeline. Times are epoch milliseconds, `null` if never seen. */
export interface PipelineState {
  recordsTotal: number;
  /** Files processed successfully. */
  filesTotal: number;
  failuresTotal: number;
  errorsByType: Record<string, number>;
  /** `etl_started` events seen: 1 + the number of restarts. */
  startsTotal: number;
  lastStartMs: number | null;
  firstEventMs: number;
  lastEventMs: number;
  lastSuccessMs: number | null;
  /** Failures since the last success; a run of them makes the pipeline unhealthy. */
  consecutiveFailures: number;
  /** Non-cumulative counts per bucket of {@linkcode DURATION_BUCKETS_SECONDS}, plus `+Inf` last. */
  durationBucketCounts: number[];
  /**
   * Durations in whole microseconds, so that sums are exact and the folds of
   * pieces of a log add up to the fold of the whole (floating-point sums would
   * depend on the order of the additions).
   */
  durationSumUs: number;
  durationCount: number;
  /** Ring of {@linkcode WINDOW_SECONDS} slots indexed by `second % WINDOW_SECONDS`. */
  window: WindowSlot[];
}

/** Outcome of reading one log line. */
export type LineResult = "parsed" | "malformed" | "rejected" | "too_long";

/**
 * Why a line that keeps the contract was still not folded: it named a
 * pipeline beyond the cap, or was dated too far ahead of the exporter's
 * clock or before 2000 (see `limits.ts`).
 */
export type DropReason = "pipeline_limit" | "clock_ahead" | "too_old";

/** Every {@linkcode DropReason}, in the order the metrics list them. */
export const DROP_REASONS: readonly DropReason[] = ["pipeline_limit", "clock_ahead", "too_old"];

/**
 * Adds to a counter that must stay exact: past `Number.MAX_SAFE_INTEGER`
 * (2^53 - 1) doubles skip integers, so the counter stops there (saturates)
 * instead of showing a wrong number. Associative, so merges stay exact.
 */
export function addSaturating(counter: number, amount: number): number {
  const sum = counter + amount;
  return sum > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : sum;
}

/** What the exporter has read, by result, and what it made of it. */
export interface IngestState {
  /** Bumped when the shape of this state changes, so old checkpoints are not misread. */
  stateVersion: 2;
  pipelines: Record<string, PipelineState>;
  lines: Record<LineResult, number>;
  /** Lines counted `parsed` but not folded, by reason; a subset of `lines.parsed`. */
  dropped: Record<DropReason, number>;
  bytesRead: number;
  /**
   * Bytes of log files that left the directory (or were truncated in place
   * without a copy) after the last complete line read from them, as far as
   * the reader knew their size. Kept here, with the positions, so that a
   * restart counts a loss exactly once.
   */
  bytesLost: number;
  /** Error types folded into `other` because a pipeline had too many distinct ones. */
  errorTypesFolded: number;
  /** Runs (`etl_started` … `etl_finished`) by pipeline: see `runs.ts`. */
  runs: Record<string, RunState>;
}

/**
 * Makes the empty state.
 *
 * @example
 * ```ts
 * createIngestState().lines.parsed; // 0
 * ```
 */
export function createIngestState(): IngestState {
  return {
    stateVersion: 2,
    pipelines: {},
    lines: { parsed: 0, malformed: 0, rejected: 0, too_long: 0 },
    dropped: { pipeline_limit: 0, clock_ahead: 0, too_old: 0 },
    bytesRead: 0,
    bytesLost: 0,
    errorTypesFolded: 0,
    runs: {},
  };
}

/**
 * Makes the state of a pipeline first seen at `firstEventMs`, with every
 * known error type at 0 so its series exist before the first failure.
 *
 * @example
 * ```ts
 * createPipelineState(0).errorsByType.disk_full; // 0
 * ```
 */
export function createPipelineState(firstEventMs: number): PipelineState {
  const errorsByType: Record<string, number> = {};
  for (const type of KNOWN_ERROR_TYPES) errorsByType[type] = 0;
  const window: WindowSlot[] = [];
  for (let i = 0; i < WINDOW_SECONDS; i++) window.push({ second: -1, records: 0, files: 0, durationUs: 0 });
  return {
    recordsTotal: 0,
    filesTotal: 0,
    failuresTotal: 0,
    errorsByType,
    startsTotal: 0,
    lastStartMs: null,
    firstEventMs,
    lastEventMs: firstEventMs,
    lastSuccessMs: null,
    consecutiveFailures: 0,
    durationBucketCounts: new Array(DURATION_BUCKETS_SECONDS.length + 1).fill(0),
    durationSumUs: 0,
    durationCount: 0,
    window,
  };
}
