import bcrypt from "bcryptjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createCredentialVerifier,
  isBcryptHash,
  type CredentialVerifierOptions,
  type PasswordCompare,
  type VerifyResult,
} from "./credential_verifier.ts";

const USER = "metrics";
const PASSWORD = "correct horse battery staple";
let hash4 = "";

beforeAll(async () => {
  hash4 = await bcrypt.hash(PASSWORD, 4);
});

/** Real bcrypt, counted, with the hash each call was given. */
function countingCompare() {
  const hashes: string[] = [];
  const compare: PasswordCompare = (password, hash) => {
    hashes.push(hash);
    return bcrypt.compare(password, hash);
  };
  return { compare, hashes, get calls() { return hashes.length; } };
}

function verifierWith(overrides: Partial<CredentialVerifierOptions> = {}) {
  const counter = countingCompare();
  const verifier = createCredentialVerifier({
    user: USER,
    passwordHash: hash4,
    compare: counter.compare,
    ...overrides,
  });
  return { verifier, counter };
}

describe("createCredentialVerifier: answers", () => {
  it("accepts the right user and password and denies a wrong password", async () => {
    const { verifier } = verifierWith();
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(await verifier.verify(USER, "")).toBe("denied");
  });

  it("uses bcrypt.compare by default", async () => {
    const verifier = createCredentialVerifier({ user: USER, passwordHash: hash4 });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
  });

  it("denies an unknown user after a full bcrypt compare, even with the right password", async () => {
    const { verifier, counter } = verifierWith();
    expect(await verifier.verify("admin", PASSWORD)).toBe("denied");
    expect(await verifier.verify("admin", "wrong")).toBe("denied");
    // Same work as for the known user: one compare each, against a hash of the same cost.
    expect(counter.calls).toBe(2);
    expect(counter.hashes.map((h) => bcrypt.getRounds(h))).toEqual([4, 4]);
    // The right password under the wrong user was not cached for the right user either way.
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(3);
  });

  it("denies names that only resemble the user", async () => {
    const { verifier } = verifierWith();
    for (const name of ["metric", "metrics ", "Metrics", "metrics\0", "", "metricsmetrics"]) {
      expect(await verifier.verify(name, PASSWORD)).toBe("denied");
    }
  });

  it("cannot be fooled by moving a NUL between user and password in the cache key", async () => {
    const password = "a\0b";
    const { verifier } = verifierWith({ passwordHash: await bcrypt.hash(password, 4) });
    expect(await verifier.verify(USER, password)).toBe("ok");
    // user + NUL + password is the same string here, so only the user check stops it.
    expect(await verifier.verify(`${USER}\0a`, "b")).toBe("denied");
  });
});

describe("createCredentialVerifier: cache", () => {
  it("verifies the right credential with bcrypt once, then from the cache", async () => {
    const { verifier, counter } = verifierWith();
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(1);
    for (let i = 0; i < 5; i++) expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(1);
  });

  it("checks a real cost-10 hash with bcrypt", async () => {
    const verifier = createCredentialVerifier({ user: USER, passwordHash: await bcrypt.hash(PASSWORD, 10) });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
  });

  it("never caches a wrong password", async () => {
    const { verifier, counter } = verifierWith();
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(counter.calls).toBe(2);
  });

  it("forgets a verified credential after cacheTtlMs without use", async () => {
    let t = 1_000_000;
    const { verifier, counter } = verifierWith({ cacheTtlMs: 60_000, now: () => t });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    t += 60_000;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(2);
    // Re-verifying starts a new period.
    t += 59_999;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(2);
  });

  it("renews a cached credential on each use, so a client that keeps scraping stays cached", async () => {
    let t = 1_000_000;
    const { verifier, counter } = verifierWith({ cacheTtlMs: 60_000, now: () => t });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    // A scrape every 15 s for an hour: bcrypt only the first time.
    for (let i = 0; i < 240; i++) {
      t += 15_000;
      expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    }
    expect(counter.calls).toBe(1);
    // A wrong password or another user does not renew (nor hit) it.
    t += 59_999;
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(await verifier.verify("admin", PASSWORD)).toBe("denied");
    t += 1;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(4);
  });

  it("does not cache at all when cacheTtlMs is 0", async () => {
    const { verifier, counter } = verifierWith({ cacheTtlMs: 0 });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(2);
  });

  it("holds at most maxCachedCredentials, dropping the oldest", async () => {
    // bcrypt reads only the first 72 bytes, so these three all verify.
    const base = "x".repeat(72);
    const { verifier, counter } = verifierWith({ passwordHash: await bcrypt.hash(base, 4), maxCachedCredentials: 2 });
    for (const suffix of ["", "1", "2"]) expect(await verifier.verify(USER, base + suffix)).toBe("ok");
    expect(counter.calls).toBe(3);
    expect(await verifier.verify(USER, `${base}2`)).toBe("ok");
    expect(await verifier.verify(USER, `${base}1`)).toBe("ok");
    expect(counter.calls).toBe(3);
    expect(await verifier.verify(USER, base)).toBe("ok");
    expect(counter.calls).toBe(4);
  });

  it("lets scrapers queued behind a new credential's first check use its result", async () => {
    const { verifier, counter } = verifierWith({ maxConcurrentHashes: 1 });
    const results = await Promise.all(Array.from({ length: 5 }, () => verifier.verify(USER, PASSWORD)));
    expect(results).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(counter.calls).toBe(1);
  });
});

describe("createCredentialVerifier: flood", () => {
  it("answers excess wrong passwords busy while a cached credential stays fast", async () => {
    const { verifier, counter } = verifierWith({ maxConcurrentHashes: 2, maxQueued: 32 });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(1);

    const flood = Array.from({ length: 200 }, (_, i) => verifier.verify(USER, `wrong-${i}`));

    // The cached credential must not wait behind the flood: it answers before any flooded check does.
    let floodSettled = 0;
    for (const f of flood) void f.then(() => floodSettled++);
    const during = await verifier.verify(USER, PASSWORD);
    expect(during).toBe("ok");
    expect(floodSettled).toBeLessThanOrEqual(166);
    expect(counter.calls).toBeLessThanOrEqual(3);

    const results = await Promise.all(flood);
    const count = (r: VerifyResult) => results.filter((x) => x === r).length;
    // 2 running + 32 queued get checked; the other 166 are refused without bcrypt.
    expect(count("denied")).toBe(34);
    expect(count("busy")).toBe(166);
    expect(count("ok")).toBe(0);
    expect(results.slice(0, 34).every((r) => r === "denied")).toBe(true);
    expect(counter.calls).toBe(1 + 34);
  });

  it("lets an uncached right credential through once a queue place is free", async () => {
    const { verifier } = verifierWith({ maxConcurrentHashes: 1, maxQueued: 4 });
    const order: string[] = [];
    const track = (name: string, p: Promise<VerifyResult>) => p.then((r) => (order.push(name), r));

    // Queue full (1 running + 4 waiting): the right credential is refused, not checked.
    const flood = Array.from({ length: 5 }, (_, i) => track(`wrong-${i}`, verifier.verify(USER, `wrong-${i}`)));
    expect(await verifier.verify(USER, PASSWORD)).toBe("busy");
    await Promise.all(flood);

    // With a place free it queues behind the flood, in arrival order, and verifies.
    const second = Array.from({ length: 3 }, (_, i) => track(`again-${i}`, verifier.verify(USER, `again-${i}`)));
    const good = track("good", verifier.verify(USER, PASSWORD));
    expect(await good).toBe("ok");
    await Promise.all(second);
    expect(order.slice(5)).toEqual(["again-0", "again-1", "again-2", "good"]);
  });

  it("re-checks a verified credential whose cache entry expired ahead of a full queue of guesses", async () => {
    let t = 1_000_000;
    const { verifier, counter } = verifierWith({ maxConcurrentHashes: 1, maxQueued: 4, cacheTtlMs: 60_000, now: () => t });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    t += 60_001; // unused for longer than cacheTtlMs: no longer cached, still recognised
    const order: string[] = [];
    const track = (name: string, p: Promise<VerifyResult>) => p.then((r) => (order.push(name), r));
    const flood = Array.from({ length: 5 }, (_, i) => track(`wrong-${i}`, verifier.verify(USER, `wrong-${i}`)));
    // Every place is taken: a guess is refused, the recognised credential is not.
    expect(await verifier.verify(USER, "one-more-guess")).toBe("busy");
    const good = track("good", verifier.verify(USER, PASSWORD));
    expect(await good).toBe("ok");
    await Promise.all(flood);
    // It took the first slot freed, before the guesses that queued before it.
    expect(order).toEqual(["wrong-0", "good", "wrong-1", "wrong-2", "wrong-3", "wrong-4"]);
    expect(counter.calls).toBe(1 + 5 + 1);
    // And it is cached again.
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(7);
  });

  it("competes like a guess again once not used for recognizeForMs, and never for a wrong password", async () => {
    let t = 1_000_000;
    const { verifier } = verifierWith({ maxConcurrentHashes: 1, maxQueued: 1, cacheTtlMs: 1_000, recognizeForMs: 10_000, now: () => t });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    t += 10_000;
    const flood = [verifier.verify(USER, "a"), verifier.verify(USER, "b")];
    expect(await verifier.verify(USER, PASSWORD)).toBe("busy");
    // A guess sharing the user is no more recognised than any other.
    expect(await verifier.verify(USER, `${PASSWORD}x`)).toBe("busy");
    expect(await Promise.all(flood)).toEqual(["denied", "denied"]);
  });

  it("bounds the recognised lane by maxQueued as well", async () => {
    let t = 1_000_000;
    const { verifier } = verifierWith({ maxConcurrentHashes: 1, maxQueued: 2, cacheTtlMs: 1_000, now: () => t });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    t += 1_000;
    const running = verifier.verify(USER, "guess");
    const recognised = [verifier.verify(USER, PASSWORD), verifier.verify(USER, PASSWORD)];
    expect(await verifier.verify(USER, PASSWORD)).toBe("busy");
    expect(await Promise.all([running, ...recognised])).toEqual(["denied", "ok", "ok"]);
  });

  it("refuses at once when nothing may queue (maxQueued 0)", async () => {
    const { verifier } = verifierWith({ maxQueued: 0 });
    const results = await Promise.all([verifier.verify(USER, "a"), verifier.verify(USER, "b")]);
    expect(results).toEqual(["denied", "busy"]);
  });

  it("frees the slot when the compare fails", async () => {
    let fail = true;
    const compare: PasswordCompare = (password, hash) =>
      fail ? Promise.reject(new Error("boom")) : bcrypt.compare(password, hash);
    const verifier = createCredentialVerifier({
      user: USER,
      passwordHash: hash4,
      compare,
      maxQueued: 0,
    });
    await expect(verifier.verify(USER, PASSWORD)).rejects.toThrow("boom");
    fail = false;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
  });
});

describe("createCredentialVerifier: configuration", () => {
  it("rejects a value that is not a bcrypt hash without quoting it", () => {
    for (const passwordHash of ["s3cret-password", "", "$2b$10$short", "$1$abc$" + "x".repeat(53), "$2b$03$" + "a".repeat(53)]) {
      let message = "";
      try {
        createCredentialVerifier({ user: USER, passwordHash });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^passwordHash is not a bcrypt hash/);
      if (passwordHash.length > 0) expect(message).not.toContain(passwordHash);
    }
  });

  it("rejects a user basic auth cannot send and bad limits", () => {
    expect(() => createCredentialVerifier({ user: "", passwordHash: hash4 })).toThrow(/user must be/);
    expect(() => createCredentialVerifier({ user: "a:b", passwordHash: hash4 })).toThrow(/user must be/);
    expect(() => createCredentialVerifier({ user: USER, passwordHash: hash4, maxConcurrentHashes: 0 })).toThrow(RangeError);
    expect(() => createCredentialVerifier({ user: USER, passwordHash: hash4, maxQueued: -1 })).toThrow(RangeError);
    expect(() => createCredentialVerifier({ user: USER, passwordHash: hash4, maxQueued: 1.5 })).toThrow(RangeError);
    expect(() => createCredentialVerifier({ user: USER, passwordHash: hash4, cacheTtlMs: Number.NaN })).toThrow(RangeError);
    expect(() => createCredentialVerifier({ user: USER, passwordHash: hash4, recognizeForMs: -1 })).toThrow(RangeError);
  });

  it("isBcryptHash accepts the $2a$, $2b$ and $2y$ forms bcryptjs checks", () => {
    const tail = hash4.slice(7);
    expect(isBcryptHash(hash4)).toBe(true);
    expect(isBcryptHash(`$2a$04$${tail}`)).toBe(true);
    expect(isBcryptHash(`$2y$31$${tail}`)).toBe(true);
    expect(isBcryptHash(`$2x$04$${tail}`)).toBe(false);
    expect(isBcryptHash(`$2b$32$${tail}`)).toBe(false);
    expect(isBcryptHash(`${hash4}\n`)).toBe(false);
    expect(isBcryptHash(hash4.slice(0, 59))).toBe(false);
  });
});
