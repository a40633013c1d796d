// The containers run the bundles in dist/ (built by global_setup.ts before the
// tests): each must stay under its budget, so a new library or an import that
// defeats tree-shaking shows up here rather than in the images.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const KIB = 1024;

/**
 * Budget of each container bundle, in bytes (a file must be strictly smaller).
 * Room left when set: simulator 5 KB, receiver 23 KB, exporter 5 KB,
 * ingest-thread 7 KB, secrets-fanout 12 KB; the smallest library the servers
 * carry, bcryptjs, is 19 KB. zod (classic API, `import * as z from "zod"`) is
 * 84–101 KB of every bundle and @logtape/logtape 49 KB of each server's.
 */
export const BUNDLE_BUDGETS: Readonly<Record<string, number>> = {
  // The three servers: 260 KiB each (250 until HTTPS serving, the settings' sources and the
  // simulator's writer lock came in; simulator 257 KB, receiver 236 KB when raised), the simulator
  // more for its batch jobs and the run families it serves (14 KB; 271 KB when raised).
  simulator: 270 * KIB,
  receiver: 260 * KIB,
  // More than the other servers: prom-client's default process metrics (process_*, nodejs_*)
  // are 26 KB and load @opentelemetry/api (22 KB, for exemplars), which no import style avoids;
  // through prom-client's public index (its only public API), which brings 20 KB more;
  // HTTPS serving, the log reader's discovery and wake-up, the push endpoint.
  // And the pipeline catalog's parsers: yaml (115 KB, the catalog is YAML) and croner (31 KB,
  // cron schedules); 493 KB when raised.
  exporter: 500 * KIB,
  // The simulator's and receiver's bcrypt compares: bcryptjs alone (18 KB).
  "bcrypt-thread": 24 * KIB,
  // The exporter's catch-up worker thread: zod and the ingest code.
  "ingest-thread": 104 * KIB,
  // The one-shot etl-secrets-init container: zod (for its settings) and file copies; in
  // TLS mode it also edits Prometheus's web config, keeping its users, with yaml (115 KB;
  // 204 KB when raised). It runs once per `up`, so its size costs only the image.
  "secrets-fanout": 216 * KIB,
};

describe("bundle sizes", () => {
  for (const [name, budget] of Object.entries(BUNDLE_BUDGETS)) {
    it(`dist/${name}.mjs exists and is under ${budget} bytes`, () => {
      const file = join(ROOT, "dist", `${name}.mjs`);
      expect(existsSync(file), `${file} is missing: is "${name}" in commands/build/bundle.mjs ENTRY_POINTS?`).toBe(true);
      expect(statSync(file).size).toBeLessThan(budget);
    });
  }
});
