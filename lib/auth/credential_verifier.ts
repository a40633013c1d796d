/**
 * Checks one user's basic-auth credentials against a bcrypt hash, cheaply for
 * repeated scrapes and without letting a flood of wrong passwords starve them.
 *
 * Why each rule exists:
 * - bcrypt at cost 10 costs ~70 ms of CPU, and Prometheus sends the same
 *   credential on every scrape, so a credential that verified once is
 *   remembered for `cacheTtlMs`. Only verified credentials are remembered, and
 *   only as a SHA-256 digest, so the cache holds no plaintext and a wrong
 *   password is paid for in full on every attempt.
 * - The user name is compared as fixed-length digests with `timingSafeEqual`,
 *   and a request for an unknown user still pays a full bcrypt compare, so
 *   neither the comparison nor the response time tells which user exists.
 * - bcrypt work is limited to `maxConcurrentHashes` at a time, with at most
 *   `maxQueued` waiting; beyond that the answer is `"busy"` at once (the HTTP
 *   layer turns it into 503 + Retry-After). A cache hit never waits for a slot,
 *   so a scraper that verified once keeps getting through a flood.
 *
 * Behaviour under a flood, for a correct credential that is not cached yet
 * (the first scrape after start, or the first after its entry expired): it
 * competes for a queue place like any other request. It is admitted whenever a
 * place is free when it arrives, then waits its FIFO turn (at most
 * `(maxQueued + maxConcurrentHashes) / maxConcurrentHashes` hash times, each
 * plus its rest: ~2.9 s at cost 10 with the defaults), and
 * once verified it is cached and no longer affected by the flood. While a flood
 * keeps every place taken it is answered `"busy"`; each retry then gets in
 * with a chance of about (hash throughput / flood rate), so it gets through
 * eventually but not at a bounded time — bounding that needs rate limiting per
 * client, which belongs in front of this (the dev server listens on loopback).
 *
 * bcryptjs is plain JavaScript: its "async" compare still runs on the main
 * thread, yielding only every 100 ms, so at cost 10 each compare is one ~70 ms
 * block. Run back to back, those blocks leave the event loop next to no time
 * for anything else: with 50 clients flooding wrong passwords at cost 10, a
 * cached scrape over real HTTP took ~2 s on Deno and ~0.2 s on Node. Hence
 * two defaults: compares run one at a time (on one thread a second concurrent
 * compare adds latency, not throughput), and after each compare its slot
 * stays idle for `hashRestRatio` of the compare's duration before the next
 * queued one starts. With 0.25, the same flood left cached scrapes at tens of
 * ms (under 0.1 s) on both, at the price of 20% fewer wrong passwords checked.
 * The caller gets its answer before the rest; only the queue waits.
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
  /** How long a verified credential skips bcrypt; 0 disables the cache. Default 300 000. */
  cacheTtlMs?: number;
  /** bcrypt compares running at once. Default 1 (see the module documentation). */
  maxConcurrentHashes?: number;
  /** Compares waiting for a slot before new ones are answered `"busy"`. Default 32. */
  maxQueued?: number;
  /**
   * Verified credentials remembered at once, oldest dropped first. Only
   * passwords equal to the right one in their first 72 bytes (bcrypt ignores
   * the rest) can verify, so this bounds what a caller who knows the password
   * could make the cache hold. Default 8.
   */
  maxCachedCredentials?: number;
  /**
   * After a compare, its slot stays idle for this fraction of the compare's
   * duration (at most 1 s), leaving the event loop time for other requests.
   * 0 disables. Default 0.25.
   */
  hashRestRatio?: number;
  /** Milliseconds clock for cache expiry and for timing compares. Default `Date.now`. */
  now?: () => number;
  /** How a rest is waited for. Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** The bcrypt compare, replaceable so tests can count calls. Default `bcrypt.compare`. */
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

// A clock jump (the default clock is wall time) must not park a slot for long.
const MAX_REST_MS = 1000;

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
  expiresAt: number;
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
    maxConcurrentHashes = 1,
    maxQueued = 32,
    maxCachedCredentials = 8,
    hashRestRatio = 0.25,
    now = Date.now,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
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
  if (!Number.isFinite(cacheTtlMs) || cacheTtlMs < 0) {
    throw new RangeError(`cacheTtlMs must be a finite number >= 0, got ${cacheTtlMs}`);
  }
  requireInteger("maxConcurrentHashes", maxConcurrentHashes, 1);
  requireInteger("maxQueued", maxQueued, 0);
  requireInteger("maxCachedCredentials", maxCachedCredentials, 1);
  if (!Number.isFinite(hashRestRatio) || hashRestRatio < 0) {
    throw new RangeError(`hashRestRatio must be a finite number >= 0, got ${hashRestRatio}`);
  }

  const userDigest = sha256(user);
  let cache: CacheEntry[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];

  function isCached(key: Buffer): boolean {
    const t = now();
    cache = cache.filter((entry) => entry.expiresAt > t);
    // Every entry is compared, so the time spent does not depend on which one matches.
    let hit = false;
    for (const entry of cache) {
      if (timingSafeEqual(entry.key, key)) hit = true;
    }
    return hit;
  }

  function remember(key: Buffer): void {
    if (cacheTtlMs === 0) return;
    cache = cache.filter((entry) => !timingSafeEqual(entry.key, key));
    cache.push({ key, expiresAt: now() + cacheTtlMs });
    if (cache.length > maxCachedCredentials) cache.shift();
  }

  // Returns null when there is neither a free slot nor a queue place.
  function admit(): Promise<void> | null {
    if (running < maxConcurrentHashes) {
      running++;
      return Promise.resolve();
    }
    if (waiting.length < maxQueued) return new Promise((resolve) => waiting.push(resolve));
    return null;
  }

  function release(): void {
    const next = waiting.shift();
    // Handing the slot straight to the next waiter keeps `running` unchanged.
    if (next) next();
    else running--;
  }

  function releaseAfterRest(hashMs: number): void {
    const rest = Math.min(Math.max(hashMs, 0) * hashRestRatio, MAX_REST_MS);
    if (rest > 0) void sleep(rest).then(release, release);
    else release();
  }

  async function hashChecked(userMatches: boolean, key: Buffer, password: string, slot: Promise<void>): Promise<VerifyResult> {
    await slot;
    // Scrapers that queued the same new credential behind the one that just verified it skip bcrypt.
    if (isCached(key) && userMatches) {
      release();
      return "ok";
    }
    const started = now();
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
      releaseAfterRest(now() - started);
    }
  }

  return {
    verify(candidateUser: string, password: string): Promise<VerifyResult> {
      // Both checks always run, so a wrong user is no faster than a wrong password.
      const userMatches = timingSafeEqual(sha256(candidateUser), userDigest);
      const key = sha256(candidateUser, "\0", password);
      if (isCached(key) && userMatches) return Promise.resolve("ok");
      // Admission is decided before the first await, so callers see "busy" at once.
      const slot = admit();
      if (slot === null) return Promise.resolve("busy");
      return hashChecked(userMatches, key, password, slot);
    },
  };
}
