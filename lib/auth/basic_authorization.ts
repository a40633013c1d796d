/**
 * The `Authorization` header of HTTP basic auth, as a client sends it. The
 * user and password are encoded as UTF-8 before base64 (RFC 7617), so a
 * password with any character signs in.
 *
 * @example
 * ```ts
 * import { basicAuthorization } from "./basic_authorization.ts";
 * basicAuthorization("readonly", "s3cret"); // "Basic cmVhZG9ubHk6czNjcmV0"
 * await fetch(url, { headers: { authorization: basicAuthorization(user, password) } });
 * ```
 * @module
 */

/** `Basic base64(utf8(user:password))`. */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
