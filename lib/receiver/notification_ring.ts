/**
 * The webhook receiver's memory: the last `capacity` notifications, at most
 * `maxChars` characters of JSON in all, newest first on read, and a count
 * of all ever recorded. Bounded in number and in size, so neither a
 * flapping alert nor a sender of large payloads can grow the receiver
 * without limit; a full history belongs in the JSONL file the worker
 * appends to.
 *
 * @example
 * ```ts
 * import { createNotificationRing } from "./notification_ring.ts";
 * const ring = createNotificationRing(200);
 * ring.record({ receivedAt: new Date().toISOString(), payload });
 * ring.latest(10); // JSON texts, newest first
 * ring.count(); // 1
 * ```
 * @module
 */
import type { AlertmanagerWebhook } from "./alertmanager_webhook.ts";

/**
 * One notification as received.
 *
 * @example
 * ```ts
 * const notification: Notification = { receivedAt: "2026-11-23T10:00:01.000Z", payload };
 * ```
 */
export interface Notification {
  /** RFC 3339 time the receiver accepted it. */
  receivedAt: string;
  payload: AlertmanagerWebhook;
}

/**
 * Where the receiver keeps notifications; the HTTP handlers only see this.
 * `record` may be asynchronous (the worker appends to a file first), and
 * when it throws the receiver answers 500 so that Alertmanager retries.
 *
 * @example
 * ```ts
 * const store: NotificationStore = createNotificationRing(200);
 * await store.record({ receivedAt: new Date().toISOString(), payload });
 * ```
 */
export interface NotificationStore {
  record(notification: Notification): void | Promise<void>;
  /** Up to `limit` notifications, newest first, each as its JSON text (as kept: see the module notes). */
  latest(limit: number): string[];
  /** Notifications recorded since start, including those the ring no longer holds. */
  count(): number;
  /** How many the store keeps for `latest`, at most. */
  readonly capacity: number;
  /** Characters of JSON the store keeps, at most (beyond one notification that alone is larger). */
  readonly maxChars: number;
}

/**
 * The default capacity: enough for a demo's history, small enough to serve
 * in one response.
 *
 * @example
 * ```ts
 * createNotificationRing().capacity === DEFAULT_RING_CAPACITY; // true (200)
 * ```
 */
export const DEFAULT_RING_CAPACITY = 200;

/**
 * The default of {@linkcode NotificationStore.maxChars}: 4 Mi characters,
 * 4 to 8 MiB of memory (a string takes 1 byte a character, 2 when it has
 * any beyond Latin-1), in a container of 128 MiB. A real notification is a
 * few KiB, so the 200 of the capacity fit ~4 times over.
 *
 * @example
 * ```ts
 * createNotificationRing(200, DEFAULT_RING_CHARS / 2);
 * ```
 */
export const DEFAULT_RING_CHARS = 4 * 1024 * 1024;

/**
 * Makes an empty ring holding at most `capacity` notifications (an integer
 * ≥ 1) and at most `maxChars` characters of their JSON, the oldest dropped
 * first; the newest is always kept. Each is kept as its JSON text, not as
 * objects: a text's memory is its length, while the objects parsed from
 * the same bytes can take twenty times more.
 *
 * @example
 * ```ts
 * const ring = createNotificationRing(2);
 * ring.record(a); ring.record(b); ring.record(c);
 * ring.latest(5).map((text) => JSON.parse(text)); // [c, b]: a was pushed out
 * ring.count(); // 3
 * ```
 */
export function createNotificationRing(capacity = DEFAULT_RING_CAPACITY, maxChars = DEFAULT_RING_CHARS): NotificationStore {
  for (const [name, value] of [["capacity", capacity], ["maxChars", maxChars]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  }
  // Oldest first; `capacity` is small enough (a setting of at most 100,000) for shift() to be cheap.
  const texts: string[] = [];
  let chars = 0;
  let total = 0;
  return {
    capacity,
    maxChars,
    record(notification) {
      const text = JSON.stringify(notification);
      texts.push(text);
      chars += text.length;
      total++;
      while (texts.length > capacity || (chars > maxChars && texts.length > 1)) chars -= texts.shift()!.length;
    },
    latest(limit) {
      const n = Number.isFinite(limit) ? Math.max(0, Math.min(Math.floor(limit), texts.length)) : 0;
      return texts.slice(texts.length - n).reverse();
    },
    count: () => total,
  };
}
