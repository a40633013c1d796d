/**
 * The V8 flags the exporter is started with, wherever it is started (the npm
 * and Deno tasks, the Compose image, the benchmark; `v8_flags.test.ts` checks
 * they all say the same). Under thousands of scrapes a second V8 grows its
 * young generation from 1 MB to 16 MB semi-spaces and keeps them: 30 MB of
 * RSS after a load that live data does not need. Two-megabyte semi-spaces
 * cost no measurable requests/s in `bench/scrape.ts`. Only a start-up flag
 * can set it (V8 sizes the young generation when the heap is made).
 *
 * @example
 * ```ts
 * import { EXPORTER_V8_FLAGS } from "./v8_flags.ts";
 * ["node", ...EXPORTER_V8_FLAGS, "dist/exporter.mjs"];
 * ```
 * @module
 */

/** Flags for `node` (for Deno: `--v8-flags=` and these joined by commas). */
export const EXPORTER_V8_FLAGS: readonly string[] = ["--max-semi-space-size=2"];
