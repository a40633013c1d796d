/**
 * Reading a JSON request body: the `Content-Type` must say JSON (415
 * otherwise) and the text must parse (400 otherwise), each with the
 * caller's own message, so that every endpoint taking JSON refuses bad
 * bodies the same way.
 *
 * @example
 * ```ts
 * import { readJsonBody } from "./json_body.ts";
 * app.post("/webhook", async (c) => {
 *   const body = await readJsonBody(c, {
 *     notJson: "send the payload as JSON (Content-Type: application/json)",
 *     unparsable: (why) => `body is not JSON: ${why}`,
 *   });
 *   if (!body.ok) return body.response;
 *   return c.json({ got: body.value });
 * });
 * ```
 * @module
 */
import type { Context } from "hono";

/**
 * Tells whether a `Content-Type` value is JSON (`application/json` or any
 * `application/*+json`), parameters such as `charset` ignored.
 *
 * @example
 * ```ts
 * isJsonContentType("application/json; charset=utf-8"); // true
 * isJsonContentType("application/x-www-form-urlencoded"); // false (curl -d without -H)
 * isJsonContentType(undefined); // false
 * ```
 */
export function isJsonContentType(value: string | undefined | null): boolean {
  const type = (value ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || /^application\/[^/\s]+\+json$/.test(type);
}

/**
 * What to answer for a body that is not JSON.
 *
 * @example
 * ```ts
 * const messages: JsonBodyMessages = { notJson: "send JSON", unparsable: (why) => `not JSON: ${why}` };
 * ```
 */
export interface JsonBodyMessages {
  /** The 415 answer's error, when `Content-Type` is not JSON. */
  notJson: string;
  /** The 400 answer's error, given the parser's complaint. */
  unparsable: (why: string) => string;
}

/**
 * The parsed body, or the error response to return as it is.
 *
 * @example
 * ```ts
 * const body: JsonBody = { ok: true, value: { scenario: "stall" } };
 * ```
 */
export type JsonBody = { ok: true; value: unknown } | { ok: false; response: Response };

/** Reads and parses the request's body as JSON; see the module notes. */
export async function readJsonBody(c: Context, messages: JsonBodyMessages): Promise<JsonBody> {
  if (!isJsonContentType(c.req.header("Content-Type"))) return { ok: false, response: c.json({ error: messages.notJson }, 415) };
  try {
    return { ok: true, value: JSON.parse(await c.req.text()) };
  } catch (error) {
    return { ok: false, response: c.json({ error: messages.unparsable((error as Error).message) }, 400) };
  }
}
