/**
 * Reading a JSON request body: the `Content-Type` must say JSON in UTF-8
 * and the body must not be compressed (415 otherwise); the bytes must be
 * valid UTF-8, nest at most {@linkcode MAX_JSON_DEPTH} deep and parse (400
 * otherwise), each with the caller's own message where it has one, so that
 * every endpoint taking JSON refuses bad bodies the same way, and with a
 * 4xx: a body that can never succeed must not invite a retry.
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
 * Deepest nesting of arrays and objects accepted: the deepest body we take
 * (Alertmanager's) nests 4 deep; far deeper input only makes recursive
 * code (validation, serialisation) overflow its stack.
 *
 * @example
 * ```ts
 * jsonDepth("[".repeat(MAX_JSON_DEPTH + 1)) > MAX_JSON_DEPTH; // true: refused with 400
 * ```
 */
export const MAX_JSON_DEPTH = 32;

/**
 * How deep arrays and objects nest in a JSON text, brackets inside strings
 * not counted; one pass, no parse. Stops counting past `limit`.
 *
 * @example
 * ```ts
 * jsonDepth('{"a":[1,{"b":"]]]"}]}'); // 3
 * ```
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x7b || ch === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Why a request's headers rule its body out, whatever the bytes: a
 * `Content-Encoding` other than identity (we do not decompress; reading
 * gzip as text would be garbage), or a charset other than UTF-8.
 *
 * @example
 * ```ts
 * bodyEncodingProblem("gzip", "application/json"); // "Content-Encoding gzip is not accepted; send the body uncompressed"
 * bodyEncodingProblem(undefined, "application/json; charset=utf-8"); // undefined
 * ```
 */
export function bodyEncodingProblem(contentEncoding: string | undefined, contentType: string | undefined): string | undefined {
  const encoding = (contentEncoding ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity") return `Content-Encoding ${encoding} is not accepted; send the body uncompressed`;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? "")?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    return `charset ${charset} is not accepted; send UTF-8`;
  }
  return undefined;
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

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads and parses the request's body as JSON; see the module notes. */
export async function readJsonBody(c: Context, messages: JsonBodyMessages): Promise<JsonBody> {
  const type = c.req.header("Content-Type");
  if (!isJsonContentType(type)) return { ok: false, response: c.json({ error: messages.notJson }, 415) };
  const encodingProblem = bodyEncodingProblem(c.req.header("Content-Encoding"), type);
  if (encodingProblem !== undefined) return { ok: false, response: c.json({ error: encodingProblem }, 415) };
  // Read outside the try: a body limit's error must reach its middleware (413), not become a 400.
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, response: c.json({ error: messages.unparsable("the body is not valid UTF-8") }, 400) };
  }
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return { ok: false, response: c.json({ error: messages.unparsable(`nested more than ${MAX_JSON_DEPTH} deep`) }, 400) };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, response: c.json({ error: messages.unparsable((error as Error).message) }, 400) };
  }
}
