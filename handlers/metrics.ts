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
import type { ProcessFamiliesSource } from "../lib/metrics/process_families.ts";
import { renderMetrics } from "../lib/metrics/render.ts";
import type { ScrapeRenderer } from "../lib/metrics/render_cache.ts";
import { negotiateFormat } from "../lib/metrics/negotiate.ts";
import type { SnapshotSource } from "../lib/etl/snapshot.ts";

/**
 * Makes the handler; the families of `processFamilies` are appended to every
 * scrape, and `render` may reuse bodies (the exporter's `perSecondRenderer`).
 */
export function metricsHandler(
  source: SnapshotSource,
  processFamilies?: ProcessFamiliesSource,
  render: ScrapeRenderer = renderMetrics,
): Handler {
  return async (c) => {
    const format = negotiateFormat(c.req.header("accept"));
    const process = processFamilies ? await processFamilies() : [];
    // The snapshot is taken after the wait, so its time is the time the body is made.
    const { contentType, body } = render(source(), format, process);
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  };
}
