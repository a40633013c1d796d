/**
 * Bounds on what log lines may make the exporter hold: how many pipelines
 * it tracks, and how far from its own clock an event's time may be. A line
 * beyond a bound is counted by reason in {@linkcode IngestState.dropped}
 * and folds nothing, so no input can grow the state (and the checkpoint,
 * and `/metrics`) without limit, nor pin a "last seen" time in the future.
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * import { DEFAULT_INGEST_LIMITS, dropReason } from "./limits.ts";
 * const state = createIngestState();
 * dropReason(state, "etl", Date.parse("9999-12-31T23:59:59.999Z"), DEFAULT_INGEST_LIMITS, Date.now()); // "clock_ahead"
 * ```
 * @module
 */
import type { DropReason, IngestState } from "./state.ts";

/**
 * The limits a line is read against. Plain data, so it crosses
 * `postMessage` to the catch-up's worker threads as it is.
 *
 * @example
 * ```ts
 * const limits: IngestLimits = { maxPipelines: 1000, maxAheadMs: 300_000 };
 * ```
 */
export interface IngestLimits {
  /** Pipelines tracked at most; a line naming one more is dropped (`pipeline_limit`). */
  maxPipelines: number;
  /** How far ahead of the exporter's clock an event may be dated (`clock_ahead` beyond). */
  maxAheadMs: number;
  /**
   * Names that fit even at the cap. The hook for cataloged pipelines (which
   * must always fit); the catch-up also puts here the pipelines the state
   * already tracks, which a block folded on its own cannot see.
   */
  alwaysFit?: ReadonlySet<string>;
}

/**
 * Default of {@linkcode IngestLimits.maxPipelines}. A pipeline costs ~50 KB
 * of heap and ~16 KB of checkpoint (its 300-second window is most of both);
 * at 500 the exporter peaks at ~130 MB RSS with a 64 MB old-space heap
 * (`npm run bench`): room to spare in its 256 MB Compose limit.
 *
 * @example
 * ```ts
 * DEFAULT_MAX_PIPELINES; // 500
 * ```
 */
export const DEFAULT_MAX_PIPELINES = 500;

/**
 * Default of {@linkcode IngestLimits.maxAheadMs}: 5 minutes, far more than
 * hosts kept in time by NTP drift apart.
 *
 * @example
 * ```ts
 * DEFAULT_MAX_AHEAD_MS / 60_000; // 5
 * ```
 */
export const DEFAULT_MAX_AHEAD_MS = 5 * 60_000;

/**
 * The earliest event time accepted (2000-01-01T00:00:00Z): older is a broken
 * clock or a made-up line (`too_old`), never an ETL run worth charting.
 *
 * @example
 * ```ts
 * new Date(EARLIEST_EVENT_MS).toISOString(); // "2000-01-01T00:00:00.000Z"
 * ```
 */
export const EARLIEST_EVENT_MS = Date.UTC(2000, 0, 1);

/**
 * The limits the exporter applies unless told otherwise.
 *
 * @example
 * ```ts
 * ingestLine(state, line, DEFAULT_INGEST_LIMITS, Date.now());
 * ```
 */
export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxPipelines: DEFAULT_MAX_PIPELINES, maxAheadMs: DEFAULT_MAX_AHEAD_MS };

/**
 * Upper bound of the checkpoint's size for the pipeline cap: a pipeline's
 * JSON is ~16 KB and at most ~45 KB (every number at its longest), plus
 * room for the file positions. A larger file was not written by an exporter
 * with these limits, and is not read (reading it could need more memory
 * than running ever did).
 *
 * @example
 * ```ts
 * maxCheckpointBytes(DEFAULT_INGEST_LIMITS); // 500 × 64 KiB + 16 MiB
 * ```
 */
export function maxCheckpointBytes(limits: Pick<IngestLimits, "maxPipelines">): number {
  return limits.maxPipelines * 64 * 1024 + 16 * 1024 * 1024;
}

/**
 * How many pipelines a state was last seen to hold: a lower bound, since
 * pipelines are never removed from a state. Once at the cap, a line for a
 * new pipeline costs one lookup instead of counting the keys again.
 */
const knownCounts = new WeakMap<object, number>();

/**
 * Whether `name` has, or may take, a place in `state`: tracked already, in
 * {@linkcode IngestLimits.alwaysFit}, or the state is under the cap.
 *
 * @example
 * ```ts
 * pipelineFits(createIngestState(), "etl", { maxPipelines: 0, maxAheadMs: 0 }); // false
 * ```
 */
export function pipelineFits(state: IngestState, name: string, limits: IngestLimits): boolean {
  const pipelines = state.pipelines;
  if (Object.hasOwn(pipelines, name)) return true;
  if (limits.alwaysFit?.has(name)) return true;
  let count = knownCounts.get(pipelines) ?? 0;
  if (count >= limits.maxPipelines) return false;
  count = Object.keys(pipelines).length;
  knownCounts.set(pipelines, count);
  return count < limits.maxPipelines;
}

/**
 * Why an event of `pipeline` dated `tsMs` must not be folded into `state`,
 * or `undefined` when it may. `nowMs` is the exporter's clock; without it
 * (a replay of old logs) only the floor is checked.
 *
 * @example
 * ```ts
 * dropReason(state, "etl", Date.UTC(1999, 11, 31), DEFAULT_INGEST_LIMITS, undefined); // "too_old"
 * ```
 */
export function dropReason(
  state: IngestState,
  pipeline: string,
  tsMs: number,
  limits: IngestLimits,
  nowMs: number | undefined,
): DropReason | undefined {
  if (!(tsMs >= EARLIEST_EVENT_MS)) return "too_old";
  if (nowMs !== undefined && tsMs - nowMs > limits.maxAheadMs) return "clock_ahead";
  if (!pipelineFits(state, pipeline, limits)) return "pipeline_limit";
  return undefined;
}

/**
 * Says what a dropped line ran into and which setting raises the bound,
 * for the exporter's (rate-limited) log.
 *
 * @example
 * ```ts
 * describeDrop("pipeline_limit", DEFAULT_INGEST_LIMITS);
 * // "more than 500 pipelines (raise ETL_MAX_PIPELINES / --max-pipelines)"
 * ```
 */
export function describeDrop(reason: DropReason, limits: IngestLimits): string {
  switch (reason) {
    case "pipeline_limit":
      return `more than ${limits.maxPipelines} pipelines (raise ETL_MAX_PIPELINES / --max-pipelines)`;
    case "clock_ahead":
      return `dated more than ${limits.maxAheadMs / 1000} s ahead of the exporter's clock (ETL_MAX_CLOCK_AHEAD_SECONDS / --max-clock-ahead-seconds)`;
    case "too_old":
      return `dated before ${new Date(EARLIEST_EVENT_MS).toISOString()}`;
  }
}

/**
 * Pulls back to `nowMs` every time in `state` that lies ahead of it, and
 * empties window slots of seconds still to come: what a checkpoint written
 * before these limits may hold after a line from the future, and would
 * otherwise keep across restarts (a pipeline pinned healthy). Returns how
 * many pipelines it changed.
 *
 * @example
 * ```ts
 * const fixed = clampToClock(checkpoint.state, Date.now());
 * if (fixed > 0) log.warn(`${fixed} pipelines had times in the future`);
 * ```
 */
export function clampToClock(state: IngestState, nowMs: number): number {
  const nowSecond = Math.floor(nowMs / 1000);
  const ahead = (ms: number | null) => ms !== null && ms > nowMs;
  let changed = 0;
  for (const p of Object.values(state.pipelines)) {
    const slots = p.window.filter((slot) => slot.second > nowSecond);
    if (!ahead(p.firstEventMs) && !ahead(p.lastEventMs) && !ahead(p.lastSuccessMs) && !ahead(p.lastStartMs) && slots.length === 0) continue;
    changed++;
    p.firstEventMs = Math.min(p.firstEventMs, nowMs);
    p.lastEventMs = Math.min(p.lastEventMs, nowMs);
    if (ahead(p.lastSuccessMs)) p.lastSuccessMs = nowMs;
    if (ahead(p.lastStartMs)) p.lastStartMs = nowMs;
    for (const slot of slots) Object.assign(slot, { second: -1, records: 0, files: 0, durationUs: 0 });
  }
  return changed;
}
