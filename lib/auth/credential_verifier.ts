/**
 * Checks one user's basic-auth credentials against a bcrypt hash, cheaply for
 * repeated scrapes and without letting a flood of wrong passwords starve them.
 *
 * Why each rule exists:
 * - bcrypt at cost 10 costs ~70 ms of CPU, and Prometheus sends the same
 *   credential on every scrape, so a credential that verified once is
 *   remembered, as a SHA-256 digest (no plaintext), and skips bcrypt until it
 *   has gone unused for `cacheTtlMs`: each use renews it, so a client that
 *   keeps scraping stays cached. Only verified credentials are remembered, so
 *   a wrong password is paid for in full on every attempt.
 * - The user name is compared as fixed-length digests with `timingSafeEqual`,
 *   and a request for an unknown user still pays a full bcrypt compare, so
 *   neither the comparison nor the response time tells which user exists.
 * - bcrypt work is limited to `maxConcurrentHashes` at a time, with at most
 *   `maxQueued` waiting; beyond that the answer is `"busy"` at once (the HTTP
 *   layer turns it into 503 + Retry-After). A cache hit never waits for a slot.
 * - A credential that verified within `recognizeForMs` but is no longer cached
 *   (unused for longer than `cacheTtlMs`) is checked with bcrypt again, but in
 *   a lane of its own: it never competes with unverified guesses for a queue
 *   place, and it takes the next free slot before any of them. Only a digest
 *   of a password that verified can enter that lane.
 * - The compare is injected: the servers pass one that runs in a worker
 *   thread (`workers/bcrypt_compare.ts`), so the event loop is free while a
 *   flood's compares run; the default, bcryptjs on the calling thread, blocks
 *   it for each compare and suits tests and one-shot tools.
 *
 * During a flood at start-up (nothing verified yet, every queue place taken):
 * cached and recognised credentials are unaffected, but a credential's very
 * first check competes like a guess. It is admitted whenever a place is free
 * when it arrives and then waits its FIFO turn (at most
 * `(maxQueued + maxConcurrentHashes) / maxConcurrentHashes` hash times: ~2.3 s
 * at cost 10 with the defaults); while every place is taken it is answered
 * `"busy"`, and each retry gets in with a chance of about (hash throughput /
 * flood rate). Once verified it stays cached while used, and recognised for
 * `recognizeForMs` after. Bounding that first check needs rate limiting per
 * client in front of this (the dev server listens on loopback).
 *
 * @example
 * ```ts
 * import bcrypt from "bcryptjs";
 * import { createCredentialVerifier } from "./credential_verifier.ts";
 * const verifier = createCredentialVerifier({
 *   user: "metrics",
 *   passwordHash: await bcrypt.hash("s3cret", 10),
 * });
 * await verifier.verify("metrics", "s3cret"); // "ok" (~70 ms, then cached)
 * await verifier.verify("metrics", "s3cret"); // "ok" (no bcrypt)
 * await verifier.verify("metrics", "guess"); // "denied"
 * ```
 * @module
 */
import type { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { compare as bcryptCompare } from "bcryptjs";

/** `"busy"` means the credential was not checked: too much bcrypt work is pending. */
export type VerifyResult = "ok" | "denied" | "busy";

/**
 * Checks a password against a bcrypt hash; `bcrypt.compare` unless replaced.
 *
 * @example
 * ```ts
 * import bcrypt from "bcryptjs";
 * let calls = 0;
 * const counting: PasswordCompare = (password, hash) => {
 *   calls++;
 *   return bcrypt.compare(password, hash);
 * };
 * ```
 */
export type PasswordCompare = (password: string, hash: string) => Promise<boolean>;

/**
 * Options of {@linkcode createCredentialVerifier}.
 *
 * @example
 * ```ts
 * const options: CredentialVerifierOptions = {
 *   user: "metrics",
 *   passwordHash: "$2b$10$...", // 60 characters
 *   cacheTtlMs: 60_000,
 * };
 * ```
 */
export interface CredentialVerifierOptions {
  /** The only accepted user; non-empty and without ":" (basic auth could not carry it). */
  user: string;
  /** bcrypt hash (`$2a$`, `$2b$` or `$2y$`, cost 04–31) of the only accepted password. */
  passwordHash: string;
  /** How long a verified credential skips bcrypt after its last use; 0 disables the cache. Default 300 000. */
  cacheTtlMs?: number;
  /**
   * How long after its last use a verified credential is still recognised
   * and re-checked ahead of unverified guesses; 0 disables. Default 86 400 000 (a day).
   */
  recognizeForMs?: number;
  /** bcrypt compares running at once. Default 1: one thread, so a flood takes at most one core. */
  maxConcurrentHashes?: number;
  /** Compares of unverified credentials waiting for a slot before new ones are answered `"busy"`. Default 32. */
  maxQueued?: number;
  /**
   * Verified credentials remembered at once, oldest dropped first. Only
   * passwords equal to the right one in their first 72 bytes (bcrypt ignores
   * the rest) can verify, so this bounds what a caller who knows the password
   * could make the cache hold. Default 8.
   */
  maxCachedCredentials?: number;
  /** Milliseconds clock for cache expiry. Default `Date.now`. */
  now?: () => number;
  /** The bcrypt compare: a worker thread's in the servers. Default bcryptjs's `compare` on this thread. */
  compare?: PasswordCompare;
}

/**
 * Verifies basic-auth credentials; see the module documentation for the rules.
 *
 * @example
 * ```ts
 * const result = await verifier.verify("metrics", password);
 * if (result === "busy") {
 *   // answer 503 with Retry-After
 * }
 * ```
 */
export interface CredentialVerifier {
  verify(user: string, password: string): Promise<VerifyResult>;
}

// Cost 04–31 is what bcryptjs accepts; 53 = 22 salt + 31 digest characters.
const BCRYPT_HASH = /^\$2[aby]\$(?:0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

/**
 * Tells whether a string has the shape of a bcrypt hash bcryptjs can check.
 *
 * @example
 * ```ts
 * isBcryptHash(await bcrypt.hash("s3cret", 10)); // true
 * isBcryptHash("s3cret"); // false
 * ```
 */
export function isBcryptHash(value: string): boolean {
  return BCRYPT_HASH.test(value);
}

interface CacheEntry {
  key: Buffer;
  /** Skips bcrypt until then. */
  cachedUntil: number;
  /** Is re-checked ahead of guesses until then. */
  recognizedUntil: number;
}

function sha256(...parts: string[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part, "utf8");
  return hash.digest();
}

function requireInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/**
 * Makes a verifier for one user and bcrypt hash. Throws at once when the hash
 * is not a bcrypt hash, so a bad configuration fails at start, not at the
 * first scrape.
 *
 * @example
 * ```ts
 * import { readFile } from "node:fs/promises";
 * const verifier = createCredentialVerifier({
 *   user: "metrics",
 *   passwordHash: (await readFile("secrets/metrics_password.bcrypt", "utf8")).trim(),
 *   cacheTtlMs: 60_000,
 * });
 * await verifier.verify("metrics", "wrong"); // "denied"
 * ```
 */
export function createCredentialVerifier(options: CredentialVerifierOptions): CredentialVerifier {
  const {
    user,
    passwordHash,
    cacheTtlMs = 300_000,
    recognizeForMs = 86_400_000,
    maxConcurrentHashes = 1,
    maxQueued = 32,
    maxCachedCredentials = 8,
    now = Date.now,
    compare = (password: string, hash: string) => bcryptCompare(password, hash),
  } = options;

  if (typeof user !== "string" || user.length === 0 || user.includes(":")) {
    throw new Error('user must be a non-empty string without ":" (basic auth cannot send one)');
  }
  if (typeof passwordHash !== "string" || !isBcryptHash(passwordHash)) {
    // The value itself is left out: it may be a plaintext password put in the wrong place.
    throw new Error(
      "passwordHash is not a bcrypt hash: expected 60 characters like $2b$10$<53 characters> " +
        `(got ${typeof passwordHash === "string" ? `${passwordHash.length} characters` : typeof passwordHash})`,
    );
  }
  for (const [name, value] of [["cacheTtlMs", cacheTtlMs], ["recognizeForMs", recognizeForMs]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
  requireInteger("maxConcurrentHashes", maxConcurrentHashes, 1);
  requireInteger("maxQueued", maxQueued, 0);
  requireInteger("maxCachedCredentials", maxCachedCredentials, 1);

  const userDigest = sha256(user);
  let entries: CacheEntry[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];
  // Credentials that verified before: served before `waiting`, never refused for its sake.
  const recognizedWaiting: (() => void)[] = [];

  /** The entry for `key`, renewed for a cache hit when `use`; every entry is compared, whichever matches. */
  function lookup(key: Buffer, use: boolean): { cached: boolean; recognized: boolean } {
    const t = now();
    entries = entries.filter((entry) => entry.recognizedUntil > t || entry.cachedUntil > t);
    let found: CacheEntry | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(entry.key, key)) found = entry;
    }
    if (found === undefined) return { cached: false, recognized: false };
    const cached = found.cachedUntil > t;
    if (cached && use) renew(found, t);
    return { cached, recognized: found.recognizedUntil > t };
  }

  function renew(entry: CacheEntry, t: number): void {
    entry.cachedUntil = t + cacheTtlMs;
    entry.recognizedUntil = Math.max(entry.recognizedUntil, t + recognizeForMs);
  }

  function remember(key: Buffer): void {
    if (cacheTtlMs === 0 && recognizeForMs === 0) return;
    entries = entries.filter((entry) => !timingSafeEqual(entry.key, key));
    const entry: CacheEntry = { key, cachedUntil: 0, recognizedUntil: 0 };
    renew(entry, now());
    entries.push(entry);
    if (entries.length > maxCachedCredentials) entries.shift();
  }

  // Returns null when there is neither a free slot nor a queue place.
  function admit(recognized: boolean): Promise<void> | null {
    if (running < maxConcurrentHashes) {
      running++;
      return Promise.resolve();
    }
    // Bounded too: only holders of the password get here, but they could open many connections.
    if (recognized) return recognizedWaiting.length < maxQueued ? new Promise((resolve) => recognizedWaiting.push(resolve)) : null;
    if (waiting.length < maxQueued) return new Promise((resolve) => waiting.push(resolve));
    return null;
  }

  function release(): void {
    const next = recognizedWaiting.shift() ?? waiting.shift();
    // Handing the slot straight to the next waiter keeps `running` unchanged.
    if (next) next();
    else running--;
  }

  async function hashChecked(userMatches: boolean, key: Buffer, password: string, slot: Promise<void>): Promise<VerifyResult> {
    await slot;
    // Scrapers that queued the same credential behind the one that just verified it skip bcrypt.
    if (lookup(key, true).cached && userMatches) {
      release();
      return "ok";
    }
    try {
      // An unknown user is checked against the real hash too: same cost, and
      // the result is ignored, so the time does not reveal that the user is unknown.
      const passwordMatches = await compare(password, passwordHash);
      if (userMatches && passwordMatches) {
        remember(key);
        return "ok";
      }
      return "denied";
    } finally {
      release();
    }
  }

  return {
    verify(candidateUser: string, password: string): Promise<VerifyResult> {
      // Both checks always run, so a wrong user is no faster than a wrong password.
      const userMatches = timingSafeEqual(sha256(candidateUser), userDigest);
      const key = sha256(candidateUser, "\0", password);
      const { cached, recognized } = lookup(key, userMatches);
      if (cached && userMatches) return Promise.resolve("ok");
      // Admission is decided before the first await, so callers see "busy" at once.
      const slot = admit(recognized && userMatches);
      if (slot === null) return Promise.resolve("busy");
      return hashChecked(userMatches, key, password, slot);
    },
  };
}
