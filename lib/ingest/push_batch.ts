/**
 * Reading a pushed batch (`POST /api/v1/events`): an NDJSON body or a JSON
 * array, each event checked on its own against the log contract, so that a
 * batch with some bad lines still takes the good ones. An accepted event is
 * kept as the line that will be appended, unknown fields included, as in the files.
 *
 * @example
 * ```ts
 * import { parsePushBatch } from "./push_batch.ts";
 * const batch = parsePushBatch('{"ts":"2026-11-23T10:00:00.000Z","level":"info","pipeline":"orders","event":"heartbeat"}\n', "ndjson", { maxLineBytes: 65536, nowMs: Date.now() });
 * batch.accepted.length; // 1
 * ```
 * @module
 */
import { decodeLine } from "../etl/ingest.ts";

/** How far ahead of the server's clock an event's `ts` may be. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/** The two body formats. */
export type PushFormat = "ndjson" | "json";

/** An event that passed the contract, ready to append. */
export interface PushedEvent {
  /** Its position in the batch: the line number (from 0) or the array index. */
  index: number;
  pipeline: string;
  eventId?: string;
  /** The event as one line, no newline. */
  line: string;
}

/** A line or element that was not taken, and why. */
export interface PushRejection {
  index: number;
  reason: string;
}

/** The batch split into what may be appended and what was refused. */
export interface PushBatch {
  accepted: PushedEvent[];
  rejected: PushRejection[];
  /** Set when the whole body is unusable (not a JSON array): nothing was read. */
  bodyError?: string;
}

/** Limits the batch is read under. */
export interface PushLimits {
  maxLineBytes: number;
  nowMs: number;
}

const encoder = new TextEncoder();

/** Checks one event's text; returns the event to append or the reason it is refused. */
function checkLine(index: number, line: string, limits: PushLimits): PushedEvent | PushRejection {
  if (encoder.encode(line).length > limits.maxLineBytes) {
    return { index, reason: `too_long: longer than ${limits.maxLineBytes} bytes` };
  }
  const outcome = decodeLine(line);
  if (outcome.result === "blank") return { index, reason: "blank" };
  if (outcome.result !== "parsed") return { index, reason: `${outcome.result}: ${outcome.problem}` };
  if (Date.parse(outcome.event.ts) > limits.nowMs + MAX_FUTURE_SKEW_MS) {
    return { index, reason: "rejected: ts is more than 5 minutes in the future" };
  }
  const { pipeline, event_id: eventId } = outcome.event;
  return eventId === undefined ? { index, pipeline, line } : { index, pipeline, eventId, line };
}

/** Splits a body into events to append and rejections; see the module notes. */
export function parsePushBatch(body: string, format: PushFormat, limits: PushLimits): PushBatch {
  const batch: PushBatch = { accepted: [], rejected: [] };
  const add = (result: PushedEvent | PushRejection) => {
    if ("line" in result) batch.accepted.push(result);
    else batch.rejected.push(result);
  };
  if (format === "ndjson") {
    const lines = body.split("\n");
    // The final newline ends the last line; it does not start an empty one.
    if (lines.at(-1) === "") lines.pop();
    lines.forEach((raw, index) => {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      // Blank lines carry nothing, as in the files: neither taken nor refused.
      if (line.trim() !== "") add(checkLine(index, line, limits));
    });
    return batch;
  }
  let items: unknown;
  try {
    items = JSON.parse(body);
  } catch (error) {
    return { ...batch, bodyError: `body is not JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(items)) return { ...batch, bodyError: "a JSON body must be an array of events" };
  items.forEach((item, index) => add(checkLine(index, JSON.stringify(item) ?? "null", limits)));
  return batch;
}
