import { Buffer } from "node:buffer";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createIngestState } from "../lib/etl/state.ts";
import { exampleWebhook } from "../tools/receiver/example_webhook.ts";
import { createNotificationRing } from "../lib/receiver/notification_ring.ts";
import { createApp } from "./app.ts";
import { createControlApp } from "./control.ts";
import { SECURITY_HEADERS, securityHeaders } from "./security_headers.ts";
import { createWebhookReceiverApp } from "./webhook_receiver.ts";

const source = () => ({ state: createIngestState(), nowMs: 0, ready: true });
const refuse: Parameters<typeof createWebhookReceiverApp>[0]["auth"] = async (c, next) =>
  c.req.header("Authorization") === "ok" ? await next() : c.text("Unauthorized\n", 401);
const exporter = () => createApp({ title: "ETL exporter", source });
const receiver = () => createWebhookReceiverApp({ store: createNotificationRing(), auth: refuse, maxBodyBytes: 2048 });
const control = () =>
  createControlApp({ control: { current: () => ({ scenario: "normal", sinceMs: 0 }), set: () => undefined }, auth: refuse });

const expectSecure = (res: Response, what: string) => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), `${name} on ${what}`).toBe(value);
};

describe("securityHeaders", () => {
  it("are on every answer of every app: pages, JSON, 401, 404, 405, 413 and 500", async () => {
    const cases: [string, Hono, string, RequestInit?][] = [
      ["exporter /", exporter(), "/"],
      ["exporter /metrics", exporter(), "/metrics"],
      ["exporter 404", exporter(), "/nope"],
      ["exporter 405", exporter(), "/metrics", { method: "POST" }],
      ["receiver /", receiver(), "/"],
      ["receiver 401", receiver(), "/notifications"],
      ["receiver 413", receiver(), "/webhook", {
        method: "POST",
        headers: { Authorization: "ok", "Content-Type": "application/json" },
        body: JSON.stringify(exampleWebhook({ receiver: "x".repeat(4096) })),
      }],
      ["control 401", control(), "/control/scenario"],
    ];
    for (const [what, app, path, init] of cases) expectSecure(await app.request(path, init), what);

    const failing = new Hono();
    failing.use(securityHeaders());
    failing.get("/", () => {
      throw new Error("boom");
    });
    failing.onError((_error, c) => c.text("Internal error\n", 500));
    const res = await failing.request("/");
    expect(res.status).toBe(500);
    expectSecure(res, "a 500");
  });
});

describe("GET routes answer other methods with 405 and Allow", () => {
  it.each(["PUT", "POST", "DELETE", "OPTIONS", "PATCH"])("%s on the exporter's and the receiver's GET routes", async (method) => {
    for (const path of ["/", "/metrics", "/health", "/-/healthy", "/-/ready"]) {
      const res = await exporter().request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("Allow")).toBe("GET, HEAD");
      expect(await res.text()).toBe(`Method ${method} not allowed; use GET, HEAD.\n`);
    }
    for (const path of ["/", "/-/healthy", "/-/ready"]) expect((await receiver().request(path, { method })).status).toBe(405);
  });

  it("still answers HEAD and GET", async () => {
    expect((await exporter().request("/metrics", { method: "HEAD" })).status).toBe(200);
    expect((await exporter().request("/-/healthy")).status).toBe(200);
    expect(Buffer.from(await (await exporter().request("/")).arrayBuffer()).toString()).toContain("ETL exporter");
  });
});
