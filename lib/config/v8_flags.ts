/**
 * The V8 flags the exporter is started with, wherever it is started (the npm
 * and Deno tasks, `npm run dev`, `npm run stack:local`, the Compose image, the
 * benchmark, the namespace hosts of the multi-host test and the scale bench;
 * `v8_flags.test.ts` checks they all say the same). Under thousands of scrapes
 * a second V8 grows its young generation from 1 MB to 16 MB semi-spaces and
 * keeps them: 30 MB of RSS after a load that live data does not need. Held at
 * 1 MB, the young generation adds 2 MB after a load where 2 MB semi-spaces
 * added 4 (`bench/scrape.ts`: +6.9 to +8.3 MB of RSS in all, against +8.7 to
 * +10.1), for some 15% fewer requests/s, still five times the Pushgateway's.
 * Only a start-up flag can set it (V8 sizes the young generation when the heap
 * is made).
 *
 * @example
 * ```ts
 * import { EXPORTER_V8_FLAGS } from "./v8_flags.ts";
 * ["node", ...EXPORTER_V8_FLAGS, "dist/exporter.mjs"];
 * ```
 * @module
 */

/** Flags for `node` (for Deno: `--v8-flags=` and these joined by commas). */
export const EXPORTER_V8_FLAGS: readonly string[] = ["--max-semi-space-size=1"];

/** The flags a worker the dev and local-stack starters spawn is given: the exporter's, or none. */
export function v8FlagsFor(worker: string): readonly string[] {
  return worker === "exporter" ? EXPORTER_V8_FLAGS : [];
}
