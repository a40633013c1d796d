import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePushBatch } from "./push_batch.ts";

const NOW = Date.UTC(2026, 10, 23, 10);
const limits = { maxLineBytes: 1024, nowMs: NOW };
const heartbeat = (ms: number, extra: object = {}) =>
  ({ ts: new Date(ms).toISOString(), level: "info", pipeline: "orders", event: "heartbeat", ...extra });

describe("parsePushBatch", () => {
  it("reads NDJSON with CRLF and blank lines, indexes by line, keeps the line as sent", () => {
    const line = JSON.stringify(heartbeat(NOW, { event_id: "x", extra: 1 }));
    const batch = parsePushBatch(`${line}\r\n\n${line}`, "ndjson", limits);
    expect(batch.accepted).toEqual([
      { index: 0, pipeline: "orders", eventId: "x", line },
      { index: 2, pipeline: "orders", eventId: "x", line },
    ]);
    expect(batch.rejected).toEqual([]);
  });

  it("accepts ts up to 5 minutes ahead and any age behind, rejects further ahead", () => {
    fc.assert(
      fc.property(fc.integer({ min: -86_400_000, max: 20 * 60_000 }), (offset) => {
        const batch = parsePushBatch(JSON.stringify([heartbeat(NOW + offset)]), "json", limits);
        expect(batch.accepted.length).toBe(offset <= 5 * 60_000 ? 1 : 0);
      }),
    );
  });

  it("refuses a JSON body that is not an array, and an over-long event", () => {
    expect(parsePushBatch("{}", "json", limits).bodyError).toBe("a JSON body must be an array of events");
    expect(parsePushBatch("[", "json", limits).bodyError).toMatch(/^body is not JSON/);
    const long = parsePushBatch(JSON.stringify([heartbeat(NOW, { pad: "é".repeat(600) })]), "json", limits);
    expect(long.rejected).toEqual([{ index: 0, reason: "too_long: longer than 1024 bytes" }]);
  });
});
