/**
 * Reads one log line against the contract and folds it into the state,
 * counting it by result. A bad line is counted and described, never thrown.
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * import { ingestLine } from "./ingest.ts";
 * const state = createIngestState();
 * ingestLine(state, "not json").result; // "malformed"
 * state.lines.malformed; // 1
 * ```
 * @module
 */
import { EtlEventSchema, type EtlEvent } from "./events.ts";
import { eventTimeMs, fastEvent } from "./fast_event.ts";
import { DEFAULT_INGEST_LIMITS, describeDrop, dropReason, type IngestLimits } from "./limits.ts";
import { foldEvent } from "./reducer.ts";
import type { DropReason, IngestState, LineResult } from "./state.ts";

/**
 * What became of a line; `problem` says why a bad line was skipped. A
 * `dropped` line kept the contract (it counts as `parsed`) but went past a
 * limit, and folded nothing.
 */
export type LineOutcome =
  | { result: "parsed"; event: EtlEvent }
  | { result: Exclude<LineResult, "parsed">; problem: string }
  | { result: "dropped"; reason: DropReason; problem: string }
  | { result: "blank" };

/**
 * Parses a line without touching any state. `null` stands for a line that
 * was over the length limit (see {@linkcode LineSplitter}).
 *
 * @example
 * ```ts
 * decodeLine('{"event":"heartbeat"}').result; // "rejected"
 * ```
 */
export function decodeLine(line: string | null): Exclude<LineOutcome, { result: "dropped" }> {
  if (line === null) return { result: "too_long", problem: "line longer than the limit, skipped" };
  if (line.trim() === "") return { result: "blank" };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { result: "malformed", problem: `not JSON: ${(error as Error).message}` };
  }
  // The hand-written check of the contract first; zod decides (and explains) what it does not vouch for.
  const event = fastEvent(json);
  if (event !== undefined) return { result: "parsed", event };
  const parsed = EtlEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") + ": " : "";
    return { result: "rejected", problem: `breaks the log contract: ${where}${issue?.message ?? "invalid"}` };
  }
  return { result: "parsed", event: parsed.data };
}

/**
 * Decodes a line, counts it by result and folds a valid event into `state`
 * unless it goes past `limits` (then it is counted in `state.dropped`).
 * Blank lines carry nothing and are not counted.
 *
 * `nowMs` is the exporter's clock, read by the caller (this module reads
 * none). An event dated ahead of it, within `limits.maxAheadMs`, is folded
 * as happening at `nowMs`: no line can move a "last seen" time past now.
 *
 * @example
 * ```ts
 * ingestLine(state, line, DEFAULT_INGEST_LIMITS, Date.now());
 * ```
 */
export function ingestLine(
  state: IngestState,
  line: string | null,
  limits: IngestLimits = DEFAULT_INGEST_LIMITS,
  nowMs?: number,
): LineOutcome {
  const outcome = decodeLine(line);
  if (outcome.result === "blank") return outcome;
  state.lines[outcome.result] += 1;
  if (outcome.result !== "parsed") return outcome;
  const event = outcome.event;
  let tsMs = eventTimeMs(event.ts);
  const reason = dropReason(state, event.pipeline, tsMs, limits, nowMs);
  if (reason !== undefined) {
    state.dropped[reason] += 1;
    return { result: "dropped", reason, problem: `${event.pipeline}: ${describeDrop(reason, limits)}` };
  }
  if (nowMs !== undefined && tsMs > nowMs) {
    event.ts = new Date(nowMs).toISOString();
    tsMs = nowMs;
  }
  foldEvent(state, event, tsMs);
  return outcome;
}
