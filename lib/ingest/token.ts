/**
 * The bearer token of the push endpoint: 32 random bytes, stored only as its
 * SHA-256 (hex), so the exporter's copy opens nothing; a presented token is
 * hashed and compared in constant time.
 *
 * @example
 * ```ts
 * import { createIngestToken, ingestTokenHash, ingestTokenMatches } from "./token.ts";
 * const token = createIngestToken();
 * ingestTokenMatches(token, ingestTokenHash(token)); // true
 * ```
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A new token: 32 random bytes, base64url (43 characters). */
export function createIngestToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The stored form of a token: SHA-256, 64 hex digits. */
export function ingestTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether `stored` is a token hash (64 lower-case hex digits). */
export function isIngestTokenHash(stored: string): boolean {
  return /^[0-9a-f]{64}$/.test(stored);
}

/** Whether `presented` is the token whose hash is `storedHash`, in constant time. */
export function ingestTokenMatches(presented: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, "hex");
  const actual = createHash("sha256").update(presented, "utf8").digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
