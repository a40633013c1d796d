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
import { renderMetrics, type RenderedMetrics } from "../lib/metrics/render.ts";
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
  // A body reused by `render` is encoded once, not once per scrape: at thousands of
  // scrapes a second the copies were most of what the heap grew by.
  const encoded = new WeakMap<RenderedMetrics, Uint8Array<ArrayBuffer>>();
  const encoder = new TextEncoder();
  return async (c) => {
    const format = negotiateFormat(c.req.header("accept"));
    const process = processFamilies ? await processFamilies() : [];
    // The snapshot is taken after the wait, so its time is the time the body is made.
    const rendered = render(source(), format, process);
    let bytes = encoded.get(rendered);
    if (bytes === undefined) {
      bytes = encoder.encode(rendered.body);
      encoded.set(rendered, bytes);
    }
    return c.body(bytes, 200, { "content-type": rendered.contentType, "cache-control": "no-store" });
  };
}
