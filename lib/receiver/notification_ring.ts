/**
 * The webhook receiver's memory: the last `capacity` notifications in a
 * ring, newest first on read, and a count of all ever recorded. Bounded, so
 * a flapping alert cannot grow the receiver without limit; a full history
 * belongs in the JSONL file the worker appends to.
 *
 * @example
 * ```ts
 * import { createNotificationRing } from "./notification_ring.ts";
 * const ring = createNotificationRing(200);
 * ring.record({ receivedAt: new Date().toISOString(), payload });
 * ring.latest(10); // newest first
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
  /** Up to `limit` notifications, newest first. */
  latest(limit: number): Notification[];
  /** Notifications recorded since start, including those the ring no longer holds. */
  count(): number;
  /** How many the store keeps for `latest`. */
  readonly capacity: number;
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
 * Makes an empty ring holding at most `capacity` notifications (an integer ≥ 1).
 *
 * @example
 * ```ts
 * const ring = createNotificationRing(2);
 * ring.record(a); ring.record(b); ring.record(c);
 * ring.latest(5); // [c, b]: a was pushed out
 * ring.count(); // 3
 * ```
 */
export function createNotificationRing(capacity = DEFAULT_RING_CAPACITY): NotificationStore {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
  }
  const slots: (Notification | undefined)[] = new Array(capacity);
  let total = 0;
  return {
    capacity,
    record(notification) {
      slots[total % capacity] = notification;
      total++;
    },
    latest(limit) {
      const n = Math.max(0, Math.min(Math.floor(limit), capacity, total));
      const out: Notification[] = [];
      for (let i = 1; i <= n; i++) out.push(slots[(total - i) % capacity]!);
      return out;
    },
    count: () => total,
  };
}
