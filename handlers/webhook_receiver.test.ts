import { Buffer } from "node:buffer";
import bcrypt from "bcryptjs";
import type { MiddlewareHandler } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { AlertmanagerWebhookSchema } from "../lib/receiver/alertmanager_webhook.ts";
import { exampleWebhook } from "../tools/receiver/example_webhook.ts";
import { createCredentialVerifier } from "../lib/auth/credential_verifier.ts";
import { createNotificationRing, type NotificationStore } from "../lib/receiver/notification_ring.ts";
import { basicAuth } from "./basic_auth.ts";
import { createWebhookReceiverApp } from "./webhook_receiver.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const PASSWORD = "receiver-pass";
const auth = { Authorization: `Basic ${Buffer.from(`alertmanager:${PASSWORD}`).toString("base64")}` };
const json = { ...auth, "Content-Type": "application/json" };

let realAuth: MiddlewareHandler;
beforeAll(async () => {
  const verifier = createCredentialVerifier({ user: "alertmanager", passwordHash: await bcrypt.hash(PASSWORD, 4) });
  realAuth = basicAuth(verifier, { realm: "etl-receiver" });
});

function receiver(store: NotificationStore = createNotificationRing(3), maxBodyBytes?: number) {
  let now = T0;
  const app = createWebhookReceiverApp({ store, auth: realAuth, now: () => now, maxBodyBytes });
  return { app, store, advance: (ms: number) => (now += ms) };
}

const post = (app: ReturnType<typeof receiver>["app"], body: unknown, headers: Record<string, string> = json) =>
  app.request("/webhook", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("POST /webhook", () => {
  it("records a payload and answers the count", async () => {
    const { app, store } = receiver();
    const res = await post(app, exampleWebhook());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, count: 1 });
    expect(store.latest(10).map((text) => JSON.parse(text))).toEqual([
      { receivedAt: "2026-11-23T10:00:00.000Z", payload: AlertmanagerWebhookSchema.parse(exampleWebhook()) },
    ]);
  });

  it("needs credentials and records nothing without them", async () => {
    const { app, store } = receiver();
    const none = await post(app, exampleWebhook(), { "Content-Type": "application/json" });
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toBe('Basic realm="etl-receiver", charset="UTF-8"');
    expect(await none.text()).toBe("Unauthorized\n");
    const wrong = await post(app, exampleWebhook(), {
      "Content-Type": "application/json",
      Authorization: `Basic ${Buffer.from("alertmanager:nope").toString("base64")}`,
    });
    expect(wrong.status).toBe(401);
    expect(store.count()).toBe(0);
  });

  it("refuses a payload that is not Alertmanager's with 400 naming the field", async () => {
    const { app, store } = receiver();
    const res = await post(app, exampleWebhook({ version: "3" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'not an Alertmanager webhook payload (version 4): version: version must be "4" (the only webhook payload version Alertmanager has sent since 0.4)',
    });
    const bad = exampleWebhook();
    bad.alerts[0]!.endsAt = "later";
    const res2 = await post(app, bad);
    expect(res2.status).toBe(400);
    expect(await res2.json()).toEqual({
      error: "not an Alertmanager webhook payload (version 4): alerts[0].endsAt: must be an RFC 3339 time",
    });
    expect(store.count()).toBe(0);
  });

  it("refuses a body that is not JSON with 400", async () => {
    const { app } = receiver();
    const res = await post(app, "{not json");
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/^body is not JSON: /);
  });

  it("refuses a body not declared JSON with 415", async () => {
    const { app } = receiver();
    const res = await post(app, exampleWebhook(), { ...auth, "Content-Type": "text/plain" });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: "send the payload as JSON (Content-Type: application/json), as Alertmanager does" });
  });

  it("refuses a body over the limit with 413, 1 MiB by default", async () => {
    const { app, store } = receiver();
    const big = exampleWebhook({ padding: "x".repeat(1 << 20) });
    const res = await post(app, big);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: "payload over 1048576 bytes" });
    expect(res.headers.get("Connection")).toBe("close");
    // Just under the limit is fine (the unknown field is dropped).
    const fits = exampleWebhook();
    const room = (1 << 20) - JSON.stringify({ ...fits, padding: "" }).length;
    expect((await post(app, { ...fits, padding: "x".repeat(room) })).status).toBe(200);
    expect(store.count()).toBe(1);
  });

  it("answers 500 when the store fails, so that Alertmanager retries", async () => {
    const failing: NotificationStore = { ...createNotificationRing(), record: () => Promise.reject(new Error("disk full")) };
    const { app } = receiver(failing);
    const res = await post(app, exampleWebhook());
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "internal error: not recorded; Alertmanager retries" });
  });

  it("answers other methods with 405", async () => {
    const { app } = receiver();
    const res = await app.request("/webhook", { headers: auth });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
  });
});

describe("POST /webhook bounds what a sender can make the receiver hold", () => {
  it("keeps only the fields of Alertmanager's schema", async () => {
    const { app } = receiver();
    const body = exampleWebhook({ extra: "x".repeat(1000) });
    (body.alerts[0] as Record<string, unknown>).nested = [[[["deep"]]]];
    expect((await post(app, body)).status).toBe(200);
    const text = await (await app.request("/notifications", { headers: auth })).text();
    expect(JSON.parse(text).notifications[0].payload).toEqual(AlertmanagerWebhookSchema.parse(exampleWebhook()));
    expect(text).not.toContain("extra");
    expect(text).not.toContain("nested");
  });

  it.each([4_111, 5_000, 100_000])("refuses nesting %i deep with 400 (a retry could never succeed), recording nothing", async (depth) => {
    const { app, store } = receiver();
    const body = JSON.stringify(exampleWebhook()).replace('"version":"4"', `"version":"4","x":${"[".repeat(depth)}${"]".repeat(depth)}`);
    const res = await post(app, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "body is not JSON: nested more than 32 deep" });
    expect(store.count()).toBe(0);
    expect((await app.request("/notifications", { headers: auth })).status).toBe(200);
  });

  it("answers 413, not 400, to a body over the limit sent without a length", async () => {
    const { app, store } = receiver(createNotificationRing(3), 2048);
    const text = new TextEncoder().encode(JSON.stringify(exampleWebhook({ receiver: "x".repeat(4096) })));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(text);
        controller.close();
      },
    });
    const res = await app.request("/webhook", { method: "POST", headers: json, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(store.count()).toBe(0);
  });

  it("refuses a compressed body with 415", async () => {
    const { app } = receiver();
    const res = await post(app, exampleWebhook(), { ...json, "Content-Encoding": "gzip" });
    expect(res.status).toBe(415);
  });

  it("holds no more than its bound after a flood of the largest notifications (scaled down)", async () => {
    const maxBodyBytes = 64 * 1024;
    const store = createNotificationRing(200, 256 * 1024);
    const { app } = receiver(store, maxBodyBytes);
    const fits = exampleWebhook();
    const room = maxBodyBytes - JSON.stringify({ ...fits, commonAnnotations: { summary: "" } }).length;
    for (let i = 0; i < 50; i++) {
      const res = await post(app, { ...fits, commonAnnotations: { summary: String(i % 10).repeat(room) } });
      expect(res.status).toBe(200);
    }
    const held = store.latest(1000);
    expect(store.count()).toBe(50);
    expect(held.length).toBe(3);
    expect(held.reduce((sum, text) => sum + text.length, 0)).toBeLessThanOrEqual(256 * 1024);
    const res = await app.request("/notifications?limit=1000", { headers: auth });
    expect(((await res.json()) as { notifications: unknown[] }).notifications).toHaveLength(3);
  });
});

describe("GET /notifications", () => {
  it("lists the newest first, bounded by the ring, with the total count", async () => {
    const { app, advance } = receiver(createNotificationRing(3));
    for (const name of ["A", "B", "C", "D"]) {
      advance(1000);
      await post(app, exampleWebhook({ receiver: name }));
    }
    const res = await app.request("/notifications", { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { count: number; notifications: { receivedAt: string; payload: { receiver: string } }[] };
    expect(body.count).toBe(4);
    expect(body.notifications.map((n) => [n.receivedAt, n.payload.receiver])).toEqual([
      ["2026-11-23T10:00:04.000Z", "D"],
      ["2026-11-23T10:00:03.000Z", "C"],
      ["2026-11-23T10:00:02.000Z", "B"],
    ]);
    const one = (await (await app.request("/notifications?limit=1", { headers: auth })).json()) as typeof body;
    expect(one.notifications.map((n) => n.payload.receiver)).toEqual(["D"]);
  });

  it("answers an empty list before any notification", async () => {
    const { app } = receiver();
    const res = await app.request("/notifications", { headers: auth });
    expect(await res.json()).toEqual({ count: 0, notifications: [] });
  });

  it.each(["0", "-1", "1.5", "abc", "1001", ""])("refuses limit=%s with 400", async (limit) => {
    const { app } = receiver();
    const res = await app.request(`/notifications?limit=${limit}`, { headers: auth });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "limit must be an integer from 1 to 1000" });
  });

  it("needs credentials", async () => {
    const { app } = receiver();
    expect((await app.request("/notifications")).status).toBe(401);
  });
});

describe("open routes", () => {
  it("serves a landing page listing the endpoints and the count, without auth", async () => {
    const { app } = receiver();
    let res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    let html = await res.text();
    expect(html).toContain("<title>ETL alert receiver</title>");
    expect(html).toContain("0 notifications received since start.");
    for (const path of ["/webhook", "/notifications", "/-/healthy", "/-/ready"]) expect(html).toContain(`<code>${path}</code>`);
    await post(app, exampleWebhook());
    res = await app.request("/");
    html = await res.text();
    expect(html).toContain("1 notification received since start.");
  });

  it("answers the probes and 404 elsewhere", async () => {
    const { app } = receiver();
    expect(await (await app.request("/-/healthy")).text()).toBe("OK\n");
    expect(await (await app.request("/-/ready")).text()).toBe("Ready\n");
    const missing = await app.request("/alerts");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("Not found. See / for the endpoints.\n");
  });
});
