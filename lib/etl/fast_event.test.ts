import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EtlEventSchema, KNOWN_ERROR_TYPES } from "./events.ts";
import { eventTimeMs, fastEvent } from "./fast_event.ts";
import { decodeLine } from "./ingest.ts";

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;

/** Every time the contract accepts: years 0000–9999, leap days, `Z` or any `±HH:MM` offset. */
const validTsArb = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1600, 1900, 1970, 2000, 2024, 2026, 2100, 9999)),
    month: fc.integer({ min: 1, max: 12 }),
    dayPick: fc.integer({ min: 1, max: 31 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    ms: fc.integer({ min: 0, max: 999 }),
    offset: fc.oneof(
      fc.constant("Z"),
      fc.tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([sign, oh, om]) => `${sign}${pad(oh, 2)}:${pad(om, 2)}`),
    ),
  })
  .map(({ year, month, dayPick, h, mi, s, ms, offset }) => {
    const day = Math.min(dayPick, daysIn(year, month));
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}${offset}`;
  });

/** Near misses of the time format, and anything else. */
const badTsArb = fc.oneof(
  validTsArb.map((ts) => ts.replace(/\.\d{3}/, "")),
  validTsArb.map((ts) => ts.replace("T", " ")),
  validTsArb.map((ts) => ts.replace(/(Z|[+-]\d\d:\d\d)$/, "")),
  validTsArb.map((ts) => ts.replace(/-\d\d-\d\d/, "-02-29")),
  validTsArb.map((ts) => ts.replace(/T\d\d/, "T24")),
  validTsArb.map((ts) => ts + " "),
  fc.constantFrom("2026-13-01T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "1900-02-29T00:00:00.000Z", "2026-01-01T00:00:00.000+24:00"),
  fc.string(),
  fc.jsonValue(),
);

/** Strings of every length around each bound, and other JSON values. */
const textArb = (bounds: number[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
    { weight: 2, arbitrary: fc.constantFrom(...bounds.flatMap((n) => [n - 1, n, n + 1]).filter((n) => n >= 0)).map((n) => "x".repeat(n)) },
    { weight: 1, arbitrary: fc.constant("") },
    { weight: 1, arbitrary: fc.constantFrom(null, 1, true, [], {}) },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
const numberArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -0, -1, 0.5, 1e12, 1e12 + 0.5, 1e13, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60, 1e-300),
  },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(null, "1", true, [], {}) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const nameArb = fc.oneof(
  fc.constantFrom("etl", "orders", "constructor", "__proto__", "a", "0-x_y", "-x", "X", "a".repeat(63), "a".repeat(64), "a b", "é"),
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,70}$/),
  fc.string(),
);
const errorTypeArb = fc.oneof(
  fc.constantFrom(...KNOWN_ERROR_TYPES, "other", "_x", "9x", "DiskFull", "a".repeat(63), "a".repeat(64)),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,70}$/),
  fc.string(),
);
const EVENTS = ["etl_started", "heartbeat", "file_started", "file_processed", "file_failed", "etl_finished"] as const;

const OWN_FIELDS: Record<string, readonly string[]> = {
  etl_started: ["version"],
  heartbeat: ["state"],
  file_started: ["file"],
  file_processed: ["file", "records", "duration_ms", "bytes"],
  file_failed: ["file", "error_type", "records", "duration_ms", "message"],
  etl_finished: ["status", "records", "duration_ms", "message"],
};
const OPTIONAL = new Set(["v", "run_id", "event_id", "version", "state", "bytes"]);
const FINISH_OPTIONAL = new Set(["records", "duration_ms", "message"]);
const goodText = (max: number, min = 1) => fc.string({ minLength: min, maxLength: Math.min(max, 30) });
const goodCount = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
const goodDuration = fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), fc.constant(1e12));

/** A valid value of each field, and values of it near and past its bounds (or of another type). */
const FIELDS: Record<string, { good: fc.Arbitrary<unknown>; edge: fc.Arbitrary<unknown> }> = {
  v: { good: fc.constant(1), edge: fc.constantFrom(2, "1", null, 1.5, 0, true) },
  ts: { good: validTsArb, edge: badTsArb },
  level: { good: fc.constantFrom("debug", "info", "warn", "error"), edge: fc.constantFrom("INFO", "fatal", 1, null, "") },
  pipeline: { good: fc.constantFrom("etl", "orders", "constructor", "a-b_1"), edge: nameArb },
  run_id: { good: goodText(64), edge: textArb([1, 64]) },
  event_id: { good: goodText(64), edge: textArb([1, 64]) },
  event: { good: fc.constantFrom(...EVENTS), edge: fc.constantFrom("file_exploded", "", null, 3, "toString", ...EVENTS) },
  version: { good: goodText(64, 0), edge: textArb([64]) },
  state: { good: fc.constantFrom("idle", "processing"), edge: fc.constantFrom("busy", null, 0, "") },
  file: { good: goodText(1024), edge: textArb([1, 1024]) },
  records: { good: goodCount, edge: numberArb },
  duration_ms: { good: goodDuration, edge: numberArb },
  bytes: { good: goodCount, edge: numberArb },
  error_type: { good: fc.constantFrom(...KNOWN_ERROR_TYPES), edge: errorTypeArb },
  message: { good: goodText(4096, 0), edge: textArb([4096]) },
  status: { good: fc.constantFrom("success", "failed", "cancelled"), edge: fc.constantFrom("done", null, "SUCCESS") },
};

/** Valid events of every kind, optional fields present or not, an unknown key now and then, keys in any order. */
const validEventArb: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.constantFrom(...EVENTS),
    fc.record(Object.fromEntries(Object.entries(FIELDS).map(([key, { good }]) => [key, good]))),
    fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    fc.option(fc.jsonValue(), { nil: undefined }),
    fc.integer({ min: 0, max: 1000 }),
  )
  .map(([event, values, include, extra, rotation]) => {
    const keys = ["v", "ts", "level", "pipeline", "run_id", "event_id", "event", ...OWN_FIELDS[event]!];
    const kept = keys.filter((key, i) => !(OPTIONAL.has(key) || (event === "etl_finished" && FINISH_OPTIONAL.has(key))) || include[i]!);
    const turn = rotation % kept.length;
    const out: Record<string, unknown> = {};
    for (const key of [...kept.slice(turn), ...kept.slice(0, turn)]) out[key] = key === "event" ? event : values[key];
    if (extra !== undefined) out.extra = extra;
    return out;
  });

/** A valid event with one or two fields (of its kind or any other) set to an edge value, or removed. */
const brokenEventArb: fc.Arbitrary<Record<string, unknown>> = validEventArb.chain((event) =>
  fc.tuple(
    fc.constant(event),
    fc.array(
      // Mostly the fields the event has (where a bound matters), sometimes any other.
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...Object.keys(event).filter((k) => k in FIELDS)) }, fc.constantFrom(...Object.keys(FIELDS)))
        .chain((key) => fc.tuple(fc.constant(key), fc.option(FIELDS[key]!.edge, { nil: undefined, freq: 6 }))),
      { minLength: 1, maxLength: 2 },
    ),
  )
)
  .map(([event, changes]) => {
    const out = { ...event };
    for (const [key, value] of changes) {
      if (value === undefined) delete out[key];
      else out[key] = value;
    }
    return out;
  });

/** What `decodeLine` said before the fast path: JSON.parse, then the schema alone. */
function decodeWithZodOnly(line: string): unknown {
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

/** Equal, with the keys in the same order (what a caller serialising the event would see). */
function expectSameEvent(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  expect(Object.keys(actual as object)).toEqual(Object.keys(expected as object));
}

describe("fastEvent", () => {
  it("gives exactly the schema's event for every valid event, and vouches for all of them", () => {
    fc.assert(
      fc.property(validEventArb, (input) => {
        const json = JSON.parse(JSON.stringify(input));
        const zod = EtlEventSchema.safeParse(json);
        expect(zod.success).toBe(true);
        const fast = fastEvent(json);
        expect(fast).toBeDefined();
        expectSameEvent(fast, zod.data);
      }),
      { numRuns: 3000 },
    );
  });

  it("vouches only for what the schema accepts, as the schema gives it, on broken and random input", () => {
    const inputArb = fc.oneof({ weight: 6, arbitrary: brokenEventArb }, { weight: 1, arbitrary: fc.jsonValue() }, { weight: 1, arbitrary: fc.object() });
    fc.assert(
      fc.property(inputArb, (input) => {
        const json = JSON.parse(JSON.stringify(input) ?? "null");
        const fast = fastEvent(json);
        if (fast === undefined) return;
        const zod = EtlEventSchema.safeParse(json);
        expect(zod.success).toBe(true);
        expectSameEvent(fast, zod.data);
      }),
      { numRuns: 20_000 },
    );
  });

  it("leaves to the schema a key present as undefined, which zod keeps (no JSON line has one)", () => {
    const json = { ts: "2026-11-23T10:00:00.000Z", level: "info", pipeline: "etl", event: "heartbeat", run_id: undefined };
    expect(fastEvent(json)).toBeUndefined();
    expect(Object.keys(EtlEventSchema.parse(json))).toContain("run_id");
  });
});

describe("decodeLine with the fast path", () => {
  it("gives the same outcome and message as the schema alone, for valid, broken, random and odd JSON lines", () => {
    const lineArb = fc.oneof(
      { weight: 4, arbitrary: fc.oneof(validEventArb, brokenEventArb).map((e) => JSON.stringify(e)) },
      // Literals JSON.stringify never writes: -0, overflowing numbers, exponents, duplicate keys, spaces.
      {
        weight: 2,
        arbitrary: fc.tuple(validEventArb, fc.constantFrom("-0", "1e400", "-1e400", "1E3", "1.0", "0.0e0", "9007199254740993"), fc.constantFrom("records", "duration_ms", "v", "bytes"))
          .map(([e, literal, key]) => JSON.stringify(e).replace(/^\{/, `{"${key}":${literal},`)),
      },
      { weight: 1, arbitrary: validEventArb.map((e) => " " + JSON.stringify(e, null, 1).replaceAll("\n", " ") + "\t") },
      { weight: 1, arbitrary: validEventArb.map((e) => JSON.stringify(e).slice(0, -1)) },
      { weight: 1, arbitrary: fc.jsonValue().map((j) => JSON.stringify(j) ?? "null") },
      { weight: 1, arbitrary: fc.string() },
    );
    fc.assert(
      fc.property(lineArb, (line) => {
        const ours = decodeLine(line);
        const reference = decodeWithZodOnly(line);
        expect(ours).toStrictEqual(reference);
        if (ours.result === "parsed") expect(Object.keys(ours.event)).toEqual(Object.keys((reference as { event: object }).event));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("eventTimeMs", () => {
  it("equals Date.parse for every time the contract accepts", () => {
    fc.assert(
      fc.property(validTsArb, (ts) => {
        expect(EventTimeSchemaAccepts(ts)).toBe(true);
        expect(eventTimeMs(ts)).toBe(Date.parse(ts));
      }),
      { numRuns: 20_000 },
    );
  });

  it("is exact at the edges of the calendar", () => {
    for (const ts of ["0000-01-01T00:00:00.000Z", "0000-02-29T23:59:59.999+23:59", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z",
      "2000-02-29T12:00:00.000-00:30", "2026-12-31T23:59:59.999-23:59", "9999-12-31T23:59:59.999Z"]) {
      expect(eventTimeMs(ts), ts).toBe(Date.parse(ts));
    }
    expect(eventTimeMs("1970-01-01T00:00:01.000+00:00")).toBe(1000);
  });
});

function EventTimeSchemaAccepts(ts: string): boolean {
  return EtlEventSchema.safeParse({ ts, level: "info", pipeline: "etl", event: "heartbeat" }).success;
}
