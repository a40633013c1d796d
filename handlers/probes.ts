/**
 * Container probes, as Prometheus names them: `/-/healthy` answers 200 while
 * the process serves; `/-/ready` answers 200 once the initial catch-up of
 * the logs is done, 503 before.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { healthyHandler, readyHandler } from "./probes.ts";
 * const app = new Hono().get("/-/healthy", healthyHandler).get("/-/ready", readyHandler(source));
 * ```
 * @module
 */
import type { Handler } from "hono";
import type { SnapshotSource } from "../lib/etl/snapshot.ts";

/** Always 200: the process is up and serving. */
export const healthyHandler: Handler = (c) => c.text("OK\n");

/** 200 once ready, 503 while catching up. */
export function readyHandler(source: SnapshotSource): Handler {
  return (c) => (source().ready ? c.text("Ready\n") : c.text("Catching up with the logs\n", 503));
}
