/**
 * `GET /metrics`: the snapshot rendered in the format the client asks for.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { metricsHandler } from "./metrics.ts";
 * const app = new Hono().get("/metrics", metricsHandler(source));
 * ```
 * @module
 */
import type { Handler } from "hono";
import type { Metric } from "prom-client";
import { renderMetrics } from "../lib/metrics/render.ts";
import { negotiateFormat } from "../lib/metrics/negotiate.ts";
import type { SnapshotSource } from "../lib/etl/snapshot.ts";

/** Makes the handler; `processMetrics` are appended to every scrape. */
export function metricsHandler(source: SnapshotSource, processMetrics: readonly Metric[] = []): Handler {
  return async (c) => {
    const format = negotiateFormat(c.req.header("accept"));
    const { contentType, body } = await renderMetrics(source(), format, processMetrics);
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  };
}
