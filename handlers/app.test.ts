import { describe, expect, it } from "vitest";
import { parseCatalog } from "../lib/catalog/catalog.ts";
import type { EtlEvent } from "../lib/etl/events.ts";
import { foldEvent } from "../lib/etl/reducer.ts";
import type { Snapshot } from "../lib/etl/snapshot.ts";
import { createIngestState } from "../lib/etl/state.ts";
import { createApp } from "./app.ts";

const T0 = Date.UTC(2026, 10, 23, 10);

function snapshotAt(nowMs: number, ready = true): Snapshot {
  const state = createIngestState();
  foldEvent(state, { ts: new Date(T0).toISOString(), level: "info", event: "file_processed", pipeline: "etl", file: "a", records: 7, duration_ms: 700 });
  return { state, nowMs, ready };
}

describe("createApp", () => {
  it("serves metrics in text format by default and OpenMetrics when asked", async () => {
    const app = createApp({ title: "t", source: () => snapshotAt(T0) });
    const text = await app.request("/metrics");
    expect(text.status).toBe(200);
    expect(text.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await text.text()).toContain('etl_records_total{pipeline="etl"} 7\n');
    const om = await app.request("/metrics", { headers: { accept: "application/openmetrics-text; version=1.0.0" } });
    expect(om.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect((await om.text()).endsWith("# EOF\n")).toBe(true);
  });

  it("answers /health 200 while healthy and 503 with reasons once stale", async () => {
    let now = T0 + 1_000;
    const app = createApp({ title: "t", source: () => snapshotAt(now) });
    const ok = await app.request("/health");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "healthy", pipelines: { etl: { healthy: true, records_total: 7 } } });
    now = T0 + 120_000;
    const stale = await app.request("/health");
    expect(stale.status).toBe(503);
    expect(await stale.json()).toMatchObject({ status: "unhealthy", pipelines: { etl: { healthy: false, reasons: ["no event for 120 s (limit 60 s)"] } } });
  });

  it("answers /health with each pipeline's state: idle between runs (200), late past the deadline (503)", async () => {
    const state = createIngestState();
    const ev = (ms: number, fields: object) => ({ ts: new Date(T0 + ms).toISOString(), level: "info", pipeline: "nightly", ...fields }) as EtlEvent;
    foldEvent(state, ev(0, { event: "etl_started", run_id: "r1" }));
    foldEvent(state, ev(1000, { event: "file_processed", file: "a", records: 5, duration_ms: 900 }));
    foldEvent(state, ev(2000, { event: "etl_finished", run_id: "r1", status: "success" }));
    const parsed = parseCatalog("pipelines:\n  nightly:\n    every: 1h\n");
    if (!parsed.ok) throw new Error("catalog");
    let now = T0 + 3_000_000;
    const app = createApp({ title: "t", source: () => ({ state, nowMs: now, ready: true, catalog: parsed.catalog }) });
    const idle = await app.request("/health");
    expect(idle.status).toBe(200);
    expect(await idle.json()).toMatchObject({
      status: "healthy",
      pipelines: {
        nightly: {
          healthy: true, state: "idle", kind: "batch", reasons: [],
          // 1 h after the success at T0+2s, plus a tenth of it.
          deadline: new Date(T0 + 2000 + 3_960_000).toISOString(),
          run_in_progress: null,
          last_run: { run_id: "r1", status: "success", reason: null, duration_seconds: 2, records: 5, finished: new Date(T0 + 2000).toISOString() },
        },
      },
    });
    now = T0 + 2000 + 3_960_001;
    const late = await app.request("/health");
    expect(late.status).toBe(503);
    expect(await late.json()).toMatchObject({ status: "unhealthy", pipelines: { nightly: { healthy: false, state: "late" } } });
  });

  it("answers /health 503 before any pipeline is seen", async () => {
    const app = createApp({ title: "t", source: () => ({ state: createIngestState(), nowMs: T0, ready: true }) });
    const res = await app.request("/health");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reasons: ["no pipeline seen in the logs yet"] });
  });

  it("probes: /-/healthy always, /-/ready only after catch-up", async () => {
    let ready = false;
    const app = createApp({ title: "t", source: () => snapshotAt(T0, ready) });
    expect((await app.request("/-/healthy")).status).toBe(200);
    expect((await app.request("/-/ready")).status).toBe(503);
    ready = true;
    expect((await app.request("/-/ready")).status).toBe(200);
  });

  it("has a landing page linking every endpoint, and a 404 pointing to it", async () => {
    const app = createApp({ title: "ETL <exporter>", source: () => snapshotAt(T0) });
    const html = await (await app.request("/")).text();
    for (const href of ["/metrics", "/health", "/-/healthy", "/-/ready"]) expect(html).toContain(`href="${href}"`);
    expect(html).toContain("ETL &lt;exporter&gt;");
    const missing = await app.request("/nope");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("See /");
  });

  it("puts the auth middleware in front of /metrics only", async () => {
    const app = createApp({
      title: "t",
      source: () => snapshotAt(T0 + 1_000),
      metricsAuth: async (c, next) => (c.req.header("authorization") === "let-me-in" ? next() : c.text("no", 401)),
    });
    expect((await app.request("/metrics")).status).toBe(401);
    expect((await app.request("/metrics", { headers: { authorization: "let-me-in" } })).status).toBe(200);
    expect((await app.request("/health")).status).toBe(200);
  });

  it("holds no state: two apps over one source answer alike", async () => {
    const source = () => snapshotAt(T0 + 1_000);
    const a = await (await createApp({ title: "a", source }).request("/metrics")).text();
    const b = await (await createApp({ title: "b", source }).request("/metrics")).text();
    expect(a).toBe(b);
  });
});
