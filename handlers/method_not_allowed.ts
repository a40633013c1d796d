/**
 * The answer to a method a route does not take: 405 with `Allow`, rather
 * than a 404 that says the path does not exist.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { methodNotAllowed } from "./method_not_allowed.ts";
 * const app = new Hono().get("/metrics", handler).all("/metrics", methodNotAllowed("GET, HEAD"));
 * ```
 * @module
 */
import type { Handler } from "hono";

/**
 * Makes the handler; register it with `app.all(path, …)` after the route's
 * own methods. `allow` is the `Allow` header's value.
 *
 * @example
 * ```ts
 * app.all("/health", methodNotAllowed("GET, HEAD"));
 * // PUT /health → 405, Allow: GET, HEAD, "Method PUT not allowed; use GET, HEAD.\n"
 * ```
 */
export function methodNotAllowed(allow: string): Handler {
  return (c) => c.text(`Method ${c.req.method} not allowed; use ${allow}.\n`, 405, { Allow: allow });
}
