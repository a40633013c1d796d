import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AlertmanagerWebhook, AlertmanagerWebhookSchema } from "./alertmanager_webhook.ts";
import { exampleWebhook } from "../../tools/receiver/example_webhook.ts";
import { createNotificationRing, DEFAULT_RING_CAPACITY, type Notification } from "./notification_ring.ts";

const payload: AlertmanagerWebhook = AlertmanagerWebhookSchema.parse(exampleWebhook());
const note = (i: number): Notification => ({ receivedAt: new Date(Date.UTC(2026, 10, 23, 10, 0, i)).toISOString(), payload });
const seconds = (list: Notification[]) => list.map((n) => new Date(n.receivedAt).getUTCSeconds());

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
  });

  it("drops the oldest past capacity and keeps counting", () => {
    const ring = createNotificationRing(3);
    for (let i = 0; i < 7; i++) ring.record(note(i));
    expect(ring.count()).toBe(7);
    expect(seconds(ring.latest(100))).toEqual([6, 5, 4]);
  });

  it("refuses a capacity that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => createNotificationRing(bad)).toThrow(RangeError);
  });

  it("always equals the tail of everything recorded, reversed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 15 }), (capacity, count, limit) => {
        const ring = createNotificationRing(capacity);
        const all = Array.from({ length: count }, (_, i) => note(i));
        for (const n of all) ring.record(n);
        expect(ring.latest(limit)).toEqual(all.slice(-capacity).reverse().slice(0, limit));
        expect(ring.count()).toBe(count);
      }),
    );
  });
});
