/**
 * Worker thread that runs bcrypt compares for the servers' basic auth
 * ({@link ./bcrypt_compare.ts}), so a ~70 ms compare at cost 10 blocks this
 * thread and never the event loop that answers scrapes. Bundled as
 * `dist/bcrypt-thread.mjs` next to the servers' bundles.
 *
 * Protocol: posts `{ ready: true }` once loaded, then answers each
 * {@linkcode BcryptRequest} with a {@linkcode BcryptReply} of the same id.
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * const thread = new Worker(new URL("./bcrypt_thread.ts", import.meta.url));
 * thread.postMessage({ id: 1, password: "s3cret", hash: "$2b$10$..." } satisfies BcryptRequest);
 * ```
 * @module
 */
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { compareSync } from "bcryptjs";

/** One compare to run. */
export interface BcryptRequest {
  id: number;
  password: string;
  hash: string;
}

/** Its answer: whether the password matches, or why the compare failed. */
export type BcryptReply = { id: number; matches: boolean } | { id: number; error: string };

/** The nice value this thread runs at: it gets the CPU that the event loop does not use. */
export const BCRYPT_THREAD_NICE = 19;

const port = parentPort;
if (port !== null) {
  // On Linux the nice value is per thread, and pid 0 names the calling one: a flood's
  // compares then take only the CPU the server's own thread leaves, whatever the cores.
  try {
    setPriority(0, BCRYPT_THREAD_NICE);
  } catch {
    // Not permitted or not supported: the compares still run off the event loop.
  }
  port.on("message", ({ id, password, hash }: BcryptRequest) => {
    // The sync compare: nothing else runs on this thread, and the async one only adds yields.
    try {
      port.postMessage({ id, matches: compareSync(password, hash) } satisfies BcryptReply);
    } catch (error) {
      port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies BcryptReply);
    }
  });
  port.postMessage({ ready: true });
}
