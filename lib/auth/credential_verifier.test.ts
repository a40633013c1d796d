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

  it("forgets a verified credential after cacheTtlMs", async () => {
    let t = 1_000_000;
    const { verifier, counter } = verifierWith({ cacheTtlMs: 60_000, now: () => t });
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    t += 59_999;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(1);
    t += 1;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(2);
    // Re-verifying starts a new period.
    t += 59_999;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(counter.calls).toBe(2);
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
    // No rest, so the first check's slot is free again by the time the flood starts
    // and the counts below are exact; resting is tested on its own.
    const { verifier, counter } = verifierWith({ maxConcurrentHashes: 2, maxQueued: 32, hashRestRatio: 0 });
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
      hashRestRatio: 0,
    });
    await expect(verifier.verify(USER, PASSWORD)).rejects.toThrow("boom");
    fail = false;
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
  });
});

describe("createCredentialVerifier: rest after each compare", () => {
  /** A compare that takes `ms` on the injected clock, and sleeps that are released by hand. */
  function pacedVerifier(ms: number, overrides: Partial<CredentialVerifierOptions> = {}) {
    let t = 0;
    const rests: number[] = [];
    const wakers: (() => void)[] = [];
    const verifier = createCredentialVerifier({
      user: USER,
      passwordHash: hash4,
      maxQueued: 0,
      now: () => t,
      compare: async (password, hash) => {
        t += ms;
        return bcrypt.compare(password, hash);
      },
      sleep: (rest) => {
        rests.push(rest);
        return new Promise<void>((resolve) => wakers.push(resolve));
      },
      ...overrides,
    });
    return { verifier, rests, wake: () => wakers.shift()?.() };
  }

  it("answers at once, then keeps the slot idle for hashRestRatio of the compare's time", async () => {
    const { verifier, rests, wake } = pacedVerifier(80);
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(rests).toEqual([20]); // default ratio 0.25
    // The only slot is resting and nothing may queue.
    expect(await verifier.verify(USER, "wrong")).toBe("busy");
    wake();
    await Promise.resolve();
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(rests).toEqual([20, 20]);
  });

  it("does not slow cache hits while a slot rests", async () => {
    const { verifier, rests } = pacedVerifier(80);
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
    expect(rests).toEqual([20]);
    expect(await verifier.verify(USER, PASSWORD)).toBe("ok");
  });

  it("uses the ratio given and caps a rest at 1 s, so a clock jump cannot park the slot", async () => {
    const long = pacedVerifier(10_000, { hashRestRatio: 1 });
    await long.verifier.verify(USER, "wrong");
    expect(long.rests).toEqual([1000]);

    const backwards = pacedVerifier(-5_000);
    await backwards.verifier.verify(USER, "wrong");
    // A negative duration means no rest at all: the slot is free again at once.
    expect(backwards.rests).toEqual([]);
    expect(await backwards.verifier.verify(USER, "wrong")).toBe("denied");
  });

  it("does not rest when hashRestRatio is 0", async () => {
    const { verifier, rests } = pacedVerifier(80, { hashRestRatio: 0 });
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(await verifier.verify(USER, "wrong")).toBe("denied");
    expect(rests).toEqual([]);
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
    expect(() => createCredentialVerifier({ user: USER, passwordHash: hash4, hashRestRatio: -1 })).toThrow(RangeError);
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
