import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCredentialVerifier } from "../lib/auth/credential_verifier.ts";
import { type BcryptThread, startBcryptThread } from "./bcrypt_compare.ts";

// The bundle global_setup.ts builds: Node 20 cannot run the .ts thread itself.
const THREAD_URL = new URL("../dist/bcrypt-thread.mjs", import.meta.url);
const PASSWORD = "correct horse";
let thread: BcryptThread;
let hash12 = "";

beforeAll(async () => {
  thread = await startBcryptThread(THREAD_URL);
  hash12 = await bcrypt.hash(PASSWORD, 12);
});
afterAll(() => thread.close());

/** setImmediate turns the event loop completes until `promise` settles. */
async function turnsWhile(promise: Promise<unknown>): Promise<number> {
  let done = false;
  void promise.finally(() => (done = true));
  let turns = 0;
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    turns++;
  }
  return turns;
}

describe("startBcryptThread", () => {
  it("compares in the thread: right and wrong passwords, and one that is not a hash", async () => {
    expect(await thread.compare(PASSWORD, hash12)).toBe(true);
    expect(await thread.compare("wrong", hash12)).toBe(false);
    expect(await thread.compare(PASSWORD, "not a hash")).toBe(false);
    expect(await thread.compare(PASSWORD, hash12)).toBe(true);
  });

  it("leaves the event loop free while a compare runs, where bcryptjs on this thread does not", async () => {
    // Cost 12 takes ~0.3 s; bcryptjs yields only every 100 ms of work, so a handful of turns.
    const here = await turnsWhile(bcrypt.compare(PASSWORD, hash12));
    const threaded = await turnsWhile(thread.compare(PASSWORD, hash12));
    expect(here).toBeLessThan(20);
    expect(threaded).toBeGreaterThan(200);
  });

  it.skipIf(process.platform !== "linux")("runs its thread, and only it, at the lowest priority", () => {
    // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value (after the command in parentheses).
    const nice = readdirSync("/proc/self/task").map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    });
    expect(nice.filter((n) => n === 19).length).toBe(1);
    expect(nice[0]).toBe(0);
  });

  it("serves a verifier", async () => {
    const verifier = createCredentialVerifier({ user: "metrics", passwordHash: hash12, compare: thread.compare });
    expect(await verifier.verify("metrics", PASSWORD)).toBe("ok");
    expect(await verifier.verify("metrics", "nope")).toBe("denied");
  });

  it("fails at start with a clear error when the thread's module is missing", async () => {
    await expect(startBcryptThread(new URL("../dist/no-such-thread.mjs", import.meta.url))).rejects.toThrow(/bcrypt thread .*no-such-thread\.mjs/);
  });
});
