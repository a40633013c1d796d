/**
 * Types for the two prom-client modules imported on their own rather than
 * through prom-client's index. The index is CommonJS and loads everything:
 * every metric type, the Pushgateway, the cluster aggregator and the default
 * process metrics (with @opentelemetry/api), and esbuild cannot drop what a
 * worker does not use from CommonJS; the simulator needs only the registry.
 * prom-client types only its index: each module here exports the class or
 * function the index re-exports under the same name. prom-client is pinned in
 * package.json; `render.test.ts` and the exporter's tests would catch a move.
 *
 * @example
 * ```ts
 * /// <reference path="./prom_client_modules.d.ts" />
 * import Registry from "prom-client/lib/registry.js";
 * const registry = new Registry();
 * ```
 * @module
 */
declare module "prom-client/lib/registry.js" {
  import { Registry } from "prom-client";
  export default Registry;
}

declare module "prom-client/lib/defaultMetrics.js" {
  import { collectDefaultMetrics } from "prom-client";
  export default collectDefaultMetrics;
}
