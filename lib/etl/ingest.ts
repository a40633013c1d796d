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
import { foldEvent } from "./reducer.ts";
import type { IngestState, LineResult } from "./state.ts";

/** What became of a line; `problem` says why a bad line was skipped. */
export type LineOutcome =
  | { result: "parsed"; event: EtlEvent }
  | { result: Exclude<LineResult, "parsed">; problem: string }
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
export function decodeLine(line: string | null): LineOutcome {
  if (line === null) return { result: "too_long", problem: "line longer than the limit, skipped" };
  if (line.trim() === "") return { result: "blank" };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { result: "malformed", problem: `not JSON: ${(error as Error).message}` };
  }
  const parsed = EtlEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") + ": " : "";
    return { result: "rejected", problem: `breaks the log contract: ${where}${issue?.message ?? "invalid"}` };
  }
  return { result: "parsed", event: parsed.data };
}

/**
 * Decodes a line, counts it by result and folds a valid event into `state`.
 * Blank lines carry nothing and are not counted.
 */
export function ingestLine(state: IngestState, line: string | null): LineOutcome {
  const outcome = decodeLine(line);
  if (outcome.result === "blank") return outcome;
  state.lines[outcome.result] += 1;
  if (outcome.result === "parsed") foldEvent(state, outcome.event);
  return outcome;
}
