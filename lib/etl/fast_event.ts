/**
 * The fast path of the log contract: a hand-written check of a parsed line
 * that gives exactly the event `EtlEventSchema.parse` gives (same keys, same
 * order, unknown keys stripped), or `undefined` when it cannot vouch for the
 * line, and the zod schema ({@link ./events.ts}, still the one source of the
 * contract) decides, with its own message. zod's generic machinery was a
 * quarter of the catch-up's time; this check is a few comparisons. The
 * property test (`fast_event.test.ts`) holds the two to the same outcome on
 * valid, broken and random input.
 *
 * @example
 * ```ts
 * import { fastEvent } from "./fast_event.ts";
 * const json = JSON.parse('{"ts":"2026-11-23T10:00:00.000Z","level":"info","pipeline":"etl","event":"heartbeat","x":1}');
 * fastEvent(json); // { ts: "2026-11-23T10:00:00.000Z", level: "info", pipeline: "etl", event: "heartbeat" }
 * fastEvent({ event: "heartbeat" }); // undefined: ask the schema
 * ```
 * @module
 */
import {
  CONTRACT_BOUNDS,
  ERROR_TYPE_PATTERN,
  type EtlEvent,
  EventTimeSchema,
  HEARTBEAT_STATES,
  LOG_CONTRACT_VERSION,
  LOG_LEVELS,
  PIPELINE_NAME_PATTERN,
  RUN_STATUSES,
} from "./events.ts";

/** The schema's own pattern for `ts`, so the two cannot drift apart. */
const TS_PATTERN: RegExp = (EventTimeSchema as unknown as { _zod: { def: { pattern: RegExp } } })._zod.def.pattern;
if (!(TS_PATTERN instanceof RegExp) || TS_PATTERN.global || TS_PATTERN.sticky) {
  throw new Error("zod no longer exposes the pattern of z.iso.datetime: fast_event.ts needs another way to read it");
}
const LEVELS: ReadonlySet<unknown> = new Set(LOG_LEVELS);
const STATES: ReadonlySet<unknown> = new Set(HEARTBEAT_STATES);
const STATUSES: ReadonlySet<unknown> = new Set(RUN_STATUSES);

type Input = Record<string, unknown>;

/**
 * Whether `key` is absent. zod keeps a key that is present with the value
 * `undefined` (never so in parsed JSON): such input goes to zod.
 */
function absent(input: Input, key: string, value: unknown): boolean {
  return value === undefined && !(key in input);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
}

function isDuration(value: unknown): value is number {
  // NaN and the Infinity of an overflowing literal fail both comparisons, as zod refuses them.
  return typeof value === "number" && value >= 0 && value <= CONTRACT_BOUNDS.durationMs;
}

function isText(value: unknown, min: number, max: number): value is string {
  return typeof value === "string" && value.length >= min && value.length <= max;
}

/**
 * The event `EtlEventSchema` makes of `json` (a value of `JSON.parse`), or
 * `undefined`: the schema must decide (the line may still be valid).
 *
 * @example
 * ```ts
 * const event = fastEvent(json) ?? EtlEventSchema.parse(json);
 * ```
 */
export function fastEvent(json: unknown): EtlEvent | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const input = json as Input;
  const { v, ts, level, pipeline, run_id, event_id, event } = input;
  if (v !== LOG_CONTRACT_VERSION && !absent(input, "v", v)) return undefined;
  if (typeof ts !== "string" || !TS_PATTERN.test(ts)) return undefined;
  if (!LEVELS.has(level)) return undefined;
  if (typeof pipeline !== "string" || !PIPELINE_NAME_PATTERN.test(pipeline)) return undefined;
  if (!isText(run_id, 1, CONTRACT_BOUNDS.idLength) && !absent(input, "run_id", run_id)) return undefined;
  if (!isText(event_id, 1, CONTRACT_BOUNDS.idLength) && !absent(input, "event_id", event_id)) return undefined;
  // Keys in the schema's order: the common ones, `event`, then the kind's own.
  const out: Input = {};
  if (v !== undefined) out.v = v;
  out.ts = ts;
  out.level = level;
  out.pipeline = pipeline;
  if (run_id !== undefined) out.run_id = run_id;
  if (event_id !== undefined) out.event_id = event_id;
  out.event = event;
  switch (event) {
    case "etl_started": {
      const { version } = input;
      if (isText(version, 0, CONTRACT_BOUNDS.idLength)) out.version = version;
      else if (!absent(input, "version", version)) return undefined;
      break;
    }
    case "heartbeat": {
      const { state } = input;
      if (STATES.has(state)) out.state = state;
      else if (!absent(input, "state", state)) return undefined;
      break;
    }
    case "file_started": {
      const { file } = input;
      if (!isText(file, 1, CONTRACT_BOUNDS.fileLength)) return undefined;
      out.file = file;
      break;
    }
    case "file_processed": {
      const { file, records, duration_ms, bytes } = input;
      if (!isText(file, 1, CONTRACT_BOUNDS.fileLength) || !isCount(records) || !isDuration(duration_ms)) return undefined;
      out.file = file;
      out.records = records;
      out.duration_ms = duration_ms;
      if (isCount(bytes)) out.bytes = bytes;
      else if (!absent(input, "bytes", bytes)) return undefined;
      break;
    }
    case "file_failed": {
      const { file, error_type, records, duration_ms, message } = input;
      if (!isText(file, 1, CONTRACT_BOUNDS.fileLength) || typeof error_type !== "string" || !ERROR_TYPE_PATTERN.test(error_type)) {
        return undefined;
      }
      if (!isCount(records) || !isDuration(duration_ms) || !isText(message, 0, CONTRACT_BOUNDS.messageLength)) return undefined;
      out.file = file;
      out.error_type = error_type;
      out.records = records;
      out.duration_ms = duration_ms;
      out.message = message;
      break;
    }
    case "etl_finished": {
      const { status, records, duration_ms, message } = input;
      if (!STATUSES.has(status)) return undefined;
      out.status = status;
      if (isCount(records)) out.records = records;
      else if (!absent(input, "records", records)) return undefined;
      if (isDuration(duration_ms)) out.duration_ms = duration_ms;
      else if (!absent(input, "duration_ms", duration_ms)) return undefined;
      if (isText(message, 0, CONTRACT_BOUNDS.messageLength)) out.message = message;
      else if (!absent(input, "message", message)) return undefined;
      break;
    }
    default:
      return undefined;
  }
  return out as EtlEvent;
}

/**
 * `Date.parse(ts)` for a `ts` the contract accepts
 * (`YYYY-MM-DDTHH:MM:SS.mmm` then `Z` or `±HH:MM`), by arithmetic on its
 * digits: the catch-up needs it once per line, and `Date.parse` cost a
 * tenth of its time. Only for a `ts` the schema accepted: the length
 * and the `T` are all it checks (other lengths go to `Date.parse`).
 *
 * @example
 * ```ts
 * eventTimeMs("2026-11-23T10:00:00.000+01:00") === Date.parse("2026-11-23T10:00:00.000+01:00"); // true
 * ```
 */
export function eventTimeMs(ts: string): number {
  const n = ts.length;
  if ((n !== 24 && n !== 29) || ts.charCodeAt(10) !== 84 /* T */) return Date.parse(ts);
  const d = (i: number) => ts.charCodeAt(i) - 48;
  let year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  const month = d(5) * 10 + d(6);
  const day = d(8) * 10 + d(9);
  const clock = (d(11) * 10 + d(12)) * 3_600_000 + (d(14) * 10 + d(15)) * 60_000 + (d(17) * 10 + d(18)) * 1000 +
    d(20) * 100 + d(21) * 10 + d(22);
  let offset = 0;
  if (n === 29) {
    const sign = ts.charCodeAt(23) === 45 /* - */ ? -1 : 1;
    offset = sign * ((d(24) * 10 + d(25)) * 3_600_000 + (d(27) * 10 + d(28)) * 60_000);
  }
  // Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
  if (month <= 2) year -= 1;
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146_097 + dayOfEra - 719_468;
  return days * 86_400_000 + clock - offset;
}
