/**
 * Composes the endpoints both workers serve: `/`, `/metrics`, `/health`,
 * `/-/healthy` and `/-/ready`, over a state source passed in. The app holds
 * no state, so it can be served by any number of handlers at once.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * const app = createApp({ title: "ETL exporter", source });
 * export default { fetch: app.fetch };
 * ```
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Handler, Hono, type MiddlewareHandler } from "hono";
import type { SnapshotSource } from "../lib/etl/snapshot.ts";
import type { ProcessFamiliesSource } from "../lib/metrics/process_families.ts";
import type { ScrapeRenderer } from "../lib/metrics/render_cache.ts";
import { healthHandler } from "./health.ts";
import { INGEST_PATH } from "./ingest.ts";
import { landingHandler } from "./landing.ts";
import { methodNotAllowed } from "./method_not_allowed.ts";
import { metricsHandler } from "./metrics.ts";
import { healthyHandler, readyHandler } from "./probes.ts";
import { securityHeaders } from "./security_headers.ts";

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  title: string;
  description?: string;
  source: SnapshotSource;
  /** Put in front of `/metrics` only (the simulator's basic auth). */
  metricsAuth?: MiddlewareHandler;
  /** The process's own families (prom-client's default metrics), appended to each scrape. */
  processMetrics?: ProcessFamiliesSource;
  /** How `/metrics` renders: `renderMetrics` unless given (the exporter reuses bodies within a second). */
  metricsRenderer?: ScrapeRenderer;
  /** `POST /api/v1/events` (the exporter with `--ingest`): see `ingest.ts`. */
  ingest?: Handler;
}

/** Builds the Hono app. */
export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  app.use(securityHeaders());
  app.get(
    "/",
    landingHandler({
      title: options.title,
      description: options.description,
      links: [
        ["/metrics", options.metricsAuth ? "Metrics (basic auth)" : "Metrics"],
        ["/health", "Health of each pipeline (JSON; 503 when unhealthy)"],
        ["/-/healthy", "Liveness probe"],
        ["/-/ready", "Readiness probe (initial catch-up done)"],
        ...(options.ingest ? [[INGEST_PATH, "Push events (POST, bearer token)"] as [string, string]] : []),
      ],
    }),
  );
  if (options.metricsAuth) app.use("/metrics", options.metricsAuth);
  app.get("/metrics", metricsHandler(options.source, options.processMetrics, options.metricsRenderer));
  app.get("/health", healthHandler(options.source));
  app.get("/-/healthy", healthyHandler);
  app.get("/-/ready", readyHandler(options.source));
  // HEAD is answered by the GET routes.
  for (const path of ["/", "/metrics", "/health", "/-/healthy", "/-/ready"]) app.all(path, methodNotAllowed("GET, HEAD"));
  if (options.ingest) app.post(INGEST_PATH, options.ingest);
  app.notFound((c) => c.text("Not found. See / for the endpoints.\n", 404));
  app.onError((error, c) => {
    getLogger(["etl", "http"]).error("Request {method} {path} failed: {error}", {
      method: c.req.method,
      path: c.req.path,
      error,
    });
    return c.text("Internal error\n", 500);
  });
  return app;
}
