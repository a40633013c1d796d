import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEventEmitter } from "./emitter.ts";
import { EtlEventSchema } from "./events.ts";
import { logContractJsonSchema, logContractJsonSchemaText, PUBLISHED_SCHEMA_PATH } from "./events_json_schema.ts";

const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(logContractJsonSchema());

describe("the published JSON Schema", () => {
  it("is current (run `npm run build:schema` after changing lib/etl/events.ts)", () => {
    expect(readFileSync(PUBLISHED_SCHEMA_PATH, "utf8")).toBe(logContractJsonSchemaText());
  });

  it("accepts what the emitter writes, extra fields included", () => {
    const lines: string[] = [];
    const etl = createEventEmitter({ pipeline: "orders", write: (l) => lines.push(l) });
    etl.started();
    etl.heartbeat({ state: "idle" });
    etl.fileStarted({ file: "a" });
    etl.fileProcessed({ file: "a", records: 3, duration_ms: 4, bytes: 5 });
    etl.fileFailed({ file: "b", error_type: "disk_full", records: 1, duration_ms: 2, message: "m" });
    for (const line of lines) expect(validate({ ...JSON.parse(line), extra: true }), line).toBe(true);
  });

  it("agrees with the zod schema on arbitrary objects", () => {
    const field = fc.oneof(fc.string(), fc.integer({ min: -5, max: 5 }), fc.constant(null), fc.double());
    const arb = fc.record(
      {
        ts: fc.constantFrom("2026-11-23T10:00:00.000Z", "2026-11-23T10:00:00Z", "2026-02-30T10:00:00.000Z", "x"),
        level: fc.constantFrom("info", "error", "loud"),
        event: fc.constantFrom("etl_started", "heartbeat", "file_started", "file_processed", "file_failed", "nope"),
        pipeline: fc.constantFrom("etl", "Bad", "a-b_c"),
        file: fc.constantFrom("f.csv", ""),
        records: field,
        duration_ms: field,
        error_type: fc.constantFrom("disk_full", "Disk"),
        message: fc.string({ maxLength: 5 }),
        v: fc.constantFrom(1, 2),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arb, (obj) => {
        expect(validate(obj)).toBe(EtlEventSchema.safeParse(obj).success);
      }),
      { numRuns: 2_000 },
    );
  });
});
