/**
 * HTTP basic auth (RFC 7617) as a Hono middleware, for routes such as the
 * simulator's `/metrics`; routes it is not mounted on, such as `/health`,
 * stay open.
 *
 * Missing, malformed and wrong credentials all get the same 401 with a
 * `WWW-Authenticate` challenge, so a client cannot tell which check failed
 * and a garbage header can never crash the handler. When the verifier has too
 * much bcrypt work pending it answers 503 with `Retry-After: 1`, because the
 * credential was not checked and a retry can succeed; that answer is held
 * back for `busyDelayMs` (a timer, no CPU), so a flood of guesses on a few
 * connections is paced by the server instead of looping on instant 503s and
 * taking the event loop from the scrapes with a cached credential.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { basicAuth } from "./basic_auth.ts";
 * import { createCredentialVerifier } from "../lib/auth/credential_verifier.ts";
 * const verifier = createCredentialVerifier({ user: "metrics", passwordHash });
 * const app = new Hono()
 *   .get("/health", (c) => c.text("ok"))
 *   .use("/metrics", basicAuth(verifier, { realm: "etl-simulator" }))
 *   .get("/metrics", (c) => c.text("# metrics"));
 * // curl -u "metrics:$(cat secrets/metrics_password)" localhost:8082/metrics
 * ```
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { CredentialVerifier } from "../lib/auth/credential_verifier.ts";

/**
 * Options of {@linkcode basicAuth}.
 *
 * @example
 * ```ts
 * const options: BasicAuthOptions = { realm: "etl-simulator" };
 * ```
 */
export interface BasicAuthOptions {
  /** Shown by browsers in the login prompt; printable ASCII without `"` or `\`. */
  realm: string;
  /** How long a 503 is held back before it is sent. Default 250 (ms); 0 sends it at once. */
  busyDelayMs?: number;
  /** How the delay is waited for. Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A user and password taken from an `Authorization` header.
 *
 * @example
 * ```ts
 * const credentials: BasicCredentials = { user: "metrics", password: "s3cret" };
 * ```
 */
export interface BasicCredentials {
  user: string;
  password: string;
}

// token68 as base64: padded or not; forgiving decoders would also accept
// whitespace inside, which no real client sends.
const BASIC_HEADER = /^basic +([A-Za-z0-9+/]+={0,2})$/i;
// Printable ASCII except `"` and `\`, so the realm needs no escaping inside a quoted-string.
const SAFE_REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Parses an `Authorization: Basic` header value; `null` when it is missing,
 * not Basic, not base64, not UTF-8, or has no `:` between user and password.
 * The password may itself contain `:`, since only the first one separates.
 *
 * @example
 * ```ts
 * parseBasicAuthorization("Basic bWV0cmljczpzM2NyZXQ="); // { user: "metrics", password: "s3cret" }
 * parseBasicAuthorization("Basic !!!"); // null
 * parseBasicAuthorization(undefined); // null
 * ```
 */
export function parseBasicAuthorization(header: string | undefined | null): BasicCredentials | null {
  if (!header) return null;
  const token = BASIC_HEADER.exec(header.trim())?.[1];
  if (token === undefined) return null;
  let binary: string;
  try {
    binary = atob(token);
  } catch {
    return null;
  }
  let decoded: string;
  try {
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // We advertise charset="UTF-8"; a password in another encoding could never match anyway.
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Makes the middleware: 401 with a challenge when credentials are missing,
 * malformed or denied, 503 with `Retry-After: 1` when the verifier is busy,
 * otherwise the next handler. Throws at once for a realm that would need
 * escaping in the header.
 *
 * @example
 * ```ts
 * app.use("/metrics", basicAuth(verifier, { realm: "etl-simulator" }));
 * // no header   -> 401, WWW-Authenticate: Basic realm="etl-simulator", charset="UTF-8"
 * // flood       -> 503, Retry-After: 1 (after 250 ms)
 * // right creds -> whatever /metrics returns
 * ```
 */
export function basicAuth(verifier: Pick<CredentialVerifier, "verify">, options: BasicAuthOptions): MiddlewareHandler {
  const { realm, busyDelayMs = 250, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = options;
  if (typeof realm !== "string" || !SAFE_REALM.test(realm)) {
    throw new Error('realm must be non-empty printable ASCII without `"` or `\\`');
  }
  if (!Number.isFinite(busyDelayMs) || busyDelayMs < 0) throw new RangeError(`busyDelayMs must be a finite number >= 0, got ${busyDelayMs}`);
  const challenge = `Basic realm="${realm}", charset="UTF-8"`;

  return async (c, next) => {
    const credentials = parseBasicAuthorization(c.req.header("Authorization"));
    const result = credentials === null ? "denied" : await verifier.verify(credentials.user, credentials.password);
    if (result === "ok") {
      await next();
      return;
    }
    if (result === "busy") {
      if (busyDelayMs > 0) await sleep(busyDelayMs);
      return c.text("Too many authentication attempts in progress; retry shortly.\n", 503, { "Retry-After": "1" });
    }
    return c.text("Unauthorized\n", 401, { "WWW-Authenticate": challenge });
  };
}
