import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AlertmanagerWebhook, AlertmanagerWebhookSchema } from "./alertmanager_webhook.ts";
import { exampleWebhook } from "../../tools/receiver/example_webhook.ts";
import { createNotificationRing, DEFAULT_RING_CAPACITY, type Notification } from "./notification_ring.ts";

const payload: AlertmanagerWebhook = AlertmanagerWebhookSchema.parse(exampleWebhook());
const note = (i: number): Notification => ({ receivedAt: new Date(Date.UTC(2026, 10, 23, 10, 0, i)).toISOString(), payload });
const parse = (texts: string[]) => texts.map((text) => JSON.parse(text) as Notification);
const seconds = (texts: string[]) => parse(texts).map((n) => new Date(n.receivedAt).getUTCSeconds());

describe("createNotificationRing", () => {
  it("starts empty", () => {
    const ring = createNotificationRing();
    expect(ring.capacity).toBe(DEFAULT_RING_CAPACITY);
    expect(ring.count()).toBe(0);
    expect(ring.latest(10)).toEqual([]);
  });

  it("gives the newest first, at most limit of them", () => {
    const ring = createNotificationRing(5);
    for (let i = 0; i < 3; i++) ring.record(note(i));
    expect(seconds(ring.latest(10))).toEqual([2, 1, 0]);
    expect(seconds(ring.latest(2))).toEqual([2, 1]);
    expect(ring.latest(0)).toEqual([]);
    expect(ring.latest(-1)).toEqual([]);
    expect(ring.latest(Number.NaN)).toEqual([]);
  });

  it("drops the oldest past capacity and keeps counting", () => {
    const ring = createNotificationRing(3);
    for (let i = 0; i < 7; i++) ring.record(note(i));
    expect(ring.count()).toBe(7);
    expect(seconds(ring.latest(100))).toEqual([6, 5, 4]);
  });

  it("keeps at most maxChars characters of JSON, dropping the oldest, and always the newest", () => {
    const size = JSON.stringify(note(0)).length;
    const ring = createNotificationRing(100, size * 3 + 1);
    for (let i = 0; i < 10; i++) ring.record(note(i));
    expect(seconds(ring.latest(100))).toEqual([9, 8, 7]);
    const tiny = createNotificationRing(100, 1);
    tiny.record(note(1));
    tiny.record(note(2));
    expect(seconds(tiny.latest(100))).toEqual([2]);
    expect(tiny.count()).toBe(2);
  });

  it("holds, after a flood of the largest notifications, no more than its bound", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 20_000 }), (pads, maxChars) => {
        const ring = createNotificationRing(20, maxChars);
        for (const [i, pad] of pads.entries()) ring.record({ ...note(i), payload: { ...payload, receiver: "x".repeat(pad) } });
        const held = ring.latest(1000);
        expect(held.length).toBeLessThanOrEqual(20);
        if (held.length > 1) expect(held.reduce((sum, text) => sum + text.length, 0)).toBeLessThanOrEqual(maxChars);
        expect(ring.count()).toBe(pads.length);
      }),
    );
  });

  it("refuses a capacity that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => createNotificationRing(bad)).toThrow(RangeError);
    expect(() => createNotificationRing(5, 0)).toThrow("maxChars must be an integer >= 1, got 0");
  });

  it("always equals the tail of everything recorded, reversed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 15 }), (capacity, count, limit) => {
        const ring = createNotificationRing(capacity);
        const all = Array.from({ length: count }, (_, i) => note(i));
        for (const n of all) ring.record(n);
        expect(parse(ring.latest(limit))).toEqual(all.slice(-capacity).reverse().slice(0, limit));
        expect(ring.count()).toBe(count);
      }),
    );
  });
});
