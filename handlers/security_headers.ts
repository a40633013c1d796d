/**
 * Headers every response of our servers carries, whatever made it (a
 * handler, a 404, a 401 of basic auth, a 413 of a body limit, a 500): no
 * content-type sniffing, and a policy that lets a page load nothing and be
 * framed by no one (our pages are plain HTML, JSON and text; none needs more).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { securityHeaders } from "./security_headers.ts";
 * const app = new Hono();
 * app.use(securityHeaders());
 * ```
 * @module
 */
import type { MiddlewareHandler } from "hono";

/**
 * The headers, by name.
 *
 * @example
 * ```ts
 * SECURITY_HEADERS["X-Frame-Options"]; // "DENY"
 * ```
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  // For browsers that predate frame-ancestors.
  "X-Frame-Options": "DENY",
};

/**
 * Makes the middleware; register it first (`app.use(securityHeaders())`)
 * so it wraps every route and the not-found and error answers.
 *
 * @example
 * ```ts
 * app.use(securityHeaders());
 * ```
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  };
}
