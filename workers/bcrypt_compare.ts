/**
 * A {@linkcode PasswordCompare} that runs bcrypt in a worker thread
 * ({@link ./bcrypt_thread.ts}) on Node and on Deno, so the event loop stays
 * free for the requests around it: a cached scrape is not kept waiting behind
 * the compares of a flood of wrong passwords. One thread: the verifier runs
 * one compare at a time, so a flood can take at most one core.
 *
 * @example
 * ```ts
 * import { startBcryptThread } from "./bcrypt_compare.ts";
 * import { createCredentialVerifier } from "../lib/auth/credential_verifier.ts";
 * const bcrypt = await startBcryptThread();
 * const verifier = createCredentialVerifier({ user, passwordHash, compare: bcrypt.compare });
 * ```
 * @module
 */
import { Worker } from "node:worker_threads";
import type { PasswordCompare } from "../lib/auth/credential_verifier.ts";
import type { BcryptReply } from "./bcrypt_thread.ts";

/** A running bcrypt thread. */
export interface BcryptThread {
  compare: PasswordCompare;
  /** Ends the thread; compares pending then are rejected. */
  close(): Promise<void>;
}

// Loading bcryptjs takes tens of milliseconds; a thread that is not up by then never will be.
const START_TIMEOUT_MS = 10_000;

/** `bcrypt_thread.ts` next to this source, or `bcrypt-thread.mjs` next to the bundle. */
export function defaultBcryptThreadUrl(): URL {
  return new URL(import.meta.url.endsWith(".ts") ? "./bcrypt_thread.ts" : "./bcrypt-thread.mjs", import.meta.url);
}

/**
 * Starts the thread and waits until it is ready, so a missing bundle fails
 * at start-up with a clear error, not at the first request.
 */
export async function startBcryptThread(url: URL = defaultBcryptThreadUrl()): Promise<BcryptThread> {
  const worker = new Worker(url);
  const pending = new Map<number, { resolve(matches: boolean): void; reject(error: Error): void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const waiter of pending.values()) waiter.reject(failure);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bcrypt thread ${url.href} did not start in ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    worker.once("message", () => {
      clearTimeout(timer);
      resolve();
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`bcrypt thread ${url.href} failed to start: ${error.message}`));
    });
  }).catch(async (error: Error) => {
    await worker.terminate();
    throw error;
  });
  worker.on("message", (reply: BcryptReply) => {
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if ("error" in reply) waiter.reject(new Error(`bcrypt: ${reply.error}`));
    else waiter.resolve(reply.matches);
  });
  worker.on("error", (error) => fail(new Error(`bcrypt thread failed: ${error.message}`)));
  worker.on("exit", (code) => fail(new Error(`bcrypt thread exited (code ${code})`)));
  // The server keeps the process alive; an idle thread must not.
  worker.unref();
  return {
    compare(password, hash) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise<boolean>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, password, hash });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
