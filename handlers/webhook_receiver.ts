/**
 * A small Alertmanager webhook receiver: records each notification it is
 * sent and shows the latest, for the demo (see what the stack would page
 * about) and for tests (assert that an alert really went out).
 *
 * | route | auth | |
 * |---|---|---|
 * | `POST /webhook` | basic | an Alertmanager payload (version 4); 200, or 400/413/415 with a message |
 * | `GET /notifications?limit=N` | basic | JSON, newest first (N from 1 to 1000, default 20) |
 * | `GET /` | none | landing page: the endpoints and how many notifications came |
 * | `GET /-/healthy`, `GET /-/ready` | none | probes |
 *
 * The app holds no state: notifications go to the {@linkcode NotificationStore}
 * passed in, which the worker backs with a ring and a JSONL file.
 *
 * @example
 * ```ts
 * import { createWebhookReceiverApp } from "./webhook_receiver.ts";
 * import { createNotificationRing } from "../lib/receiver/notification_ring.ts";
 * const app = createWebhookReceiverApp({
 *   store: createNotificationRing(200),
 *   auth: basicAuth(verifier, { realm: "etl-receiver" }),
 * });
 * // alertmanager.yml: webhook_configs: [{ url: http://127.0.0.1:9095/webhook,
 * //   http_config: { basic_auth: { username: alertmanager, password_file: secrets/receiver_password } } }]
 * ```
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod";
import { parseWebhook } from "../lib/receiver/alertmanager_webhook.ts";
import type { NotificationStore } from "../lib/receiver/notification_ring.ts";
import { readJsonBody } from "./json_body.ts";
import { landingPageHtml } from "./landing.ts";
import { methodNotAllowed } from "./method_not_allowed.ts";
import { healthyHandler } from "./probes.ts";
import { securityHeaders } from "./security_headers.ts";

/**
 * Options of {@linkcode createWebhookReceiverApp}.
 *
 * @example
 * ```ts
 * const options: WebhookReceiverOptions = { store, auth, title: "ETL alert receiver", now: () => T0 };
 * ```
 */
export interface WebhookReceiverOptions {
  store: NotificationStore;
  /** Put in front of `/webhook` and `/notifications`; required, since both carry alert contents. */
  auth: MiddlewareHandler;
  /** Title of the landing page. Default `"ETL alert receiver"`. */
  title?: string;
  /** Clock for `receivedAt`. Default `Date.now`. */
  now?: () => number;
  /** Largest body accepted on `/webhook`, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * Default of {@linkcode WebhookReceiverOptions.maxBodyBytes} (1 MiB): far
 * above a real group of alerts, which is a few KiB.
 *
 * @example
 * ```ts
 * createWebhookReceiverApp({ store, auth, maxBodyBytes: MAX_WEBHOOK_BYTES / 4 });
 * ```
 */
export const MAX_WEBHOOK_BYTES = 1 << 20;

/**
 * The `limit` query parameter of `GET /notifications`: absent means 20.
 *
 * @example
 * ```ts
 * LimitSchema.parse(undefined); // 20
 * LimitSchema.parse("5"); // 5
 * LimitSchema.safeParse("0").success; // false
 * ```
 */
export const LimitSchema = z
  .string()
  .regex(/^\d{1,4}$/, "limit must be an integer from 1 to 1000")
  .transform(Number)
  .pipe(z.number().min(1, "limit must be an integer from 1 to 1000").max(1000, "limit must be an integer from 1 to 1000"))
  .default(20);

const landingLinks = (capacity: number, maxChars: number): [string, string][] => [
  ["/webhook", "POST an Alertmanager webhook payload (basic auth)"],
  ["/notifications", `The latest notifications, newest first, as JSON (basic auth; ?limit=1..1000; the last ${capacity} kept, ` +
    `at most ${maxChars} characters of them)`],
  ["/-/healthy", "Liveness probe"],
  ["/-/ready", "Readiness probe"],
];

/**
 * Makes the handler of `POST /webhook`: 415 unless the body is declared
 * JSON, 400 with a message naming the fields at fault, else records the
 * notification and answers `{"ok": true, "count": <notifications so far>}`.
 * Requests are handled one after another.
 *
 * @example
 * ```ts
 * app.post("/webhook", webhookHandler(store, Date.now));
 * ```
 */
export function webhookHandler(store: NotificationStore, now: () => number = Date.now): (c: Context) => Promise<Response> {
  const handle = async (c: Context): Promise<Response> => {
    const read = await readJsonBody(c, {
      notJson: "send the payload as JSON (Content-Type: application/json), as Alertmanager does",
      unparsable: (why) => `body is not JSON: ${why}`,
    });
    if (!read.ok) return read.response;
    const parsed = parseWebhook(read.value);
    if (!parsed.ok) return c.json({ error: parsed.message }, 400);
    await store.record({ receivedAt: new Date(now()).toISOString(), payload: parsed.payload });
    return c.json({ ok: true, count: store.count() });
  };
  // One body at a time: parsing a large one takes several times its size, and a flood of them
  // at once would take that many times more; waiting bodies stay in the sockets, unread.
  let queue: Promise<unknown> = Promise.resolve();
  return (c) => {
    const turn = queue.then(() => handle(c));
    queue = turn.catch(() => undefined);
    return turn;
  };
}

/**
 * Makes the handler of `GET /notifications?limit=N`: `{"count", "notifications"}`,
 * newest first; 400 for a bad `limit`.
 *
 * @example
 * ```ts
 * app.get("/notifications", notificationsHandler(store));
 * // {"count": 3, "notifications": [{"receivedAt": "…", "payload": {…}}, …]}
 * ```
 */
export function notificationsHandler(store: NotificationStore): (c: Context) => Response {
  return (c) => {
    const limit = LimitSchema.safeParse(c.req.query("limit"));
    if (!limit.success) return c.json({ error: "limit must be an integer from 1 to 1000" }, 400);
    // The store keeps JSON texts: joined as they are, never parsed again.
    const body = `{"count":${store.count()},"notifications":[${store.latest(limit.data).join(",")}]}`;
    return c.body(body, 200, { "Content-Type": "application/json" });
  };
}

/**
 * Builds the receiver's Hono app over a store and an auth middleware.
 *
 * @example
 * ```ts
 * const app = createWebhookReceiverApp({ store: createNotificationRing(), auth });
 * const res = await app.request("/notifications?limit=5", { headers: { authorization } });
 * ```
 */
export function createWebhookReceiverApp(options: WebhookReceiverOptions): Hono {
  const { store, auth, title = "ETL alert receiver", now = Date.now, maxBodyBytes = MAX_WEBHOOK_BYTES } = options;
  const app = new Hono();
  app.use(securityHeaders());
  app.get("/", (c) => {
    const count = store.count();
    const description = `${count} notification${count === 1 ? "" : "s"} received since start.`;
    return c.html(landingPageHtml({ title, description, links: landingLinks(store.capacity, store.maxChars) }));
  });
  app.get("/-/healthy", healthyHandler);
  // Nothing to catch up with: serving means ready.
  app.get("/-/ready", (c) => c.text("Ready\n"));
  for (const path of ["/", "/-/healthy", "/-/ready"]) app.all(path, methodNotAllowed("GET, HEAD"));

  app.use("/webhook", auth);
  app.post(
    "/webhook",
    bodyLimit({
      maxSize: maxBodyBytes,
      // The rest of the body is never read, so the connection cannot carry another request.
      onError: (c) => c.json({ error: `payload over ${maxBodyBytes} bytes` }, 413, { Connection: "close" }),
    }),
    webhookHandler(store, now),
  );
  app.all("/webhook", (c) => c.json({ error: `method ${c.req.method} not allowed; POST a payload` }, 405, { Allow: "POST" }));

  app.use("/notifications", auth);
  app.get("/notifications", notificationsHandler(store));
  app.all("/notifications", (c) => c.json({ error: `method ${c.req.method} not allowed; use GET` }, 405, { Allow: "GET" }));

  app.notFound((c) => c.text("Not found. See / for the endpoints.\n", 404));
  app.onError((error, c) => {
    getLogger(["etl", "http"]).error("Request {method} {path} failed: {error}", { method: c.req.method, path: c.req.path, error });
    // A 5xx makes Alertmanager send the notification again, so say it is not lost.
    const error_ = c.req.path === "/webhook" ? "internal error: not recorded; Alertmanager retries" : "internal error";
    return c.json({ error: error_ }, 500);
  });
  return app;
}
