// Bundles each worker into one ESM file under dist/ that runs on Node 20+ and Deno.
import { build } from "esbuild";

export const ENTRY_POINTS = {
  simulator: "workers/simulator/main.ts",
  exporter: "workers/exporter/main.ts",
  "ingest-thread": "workers/exporter/ingest_thread.ts",
  "bcrypt-thread": "workers/bcrypt_thread.ts",
  dev: "workers/dev.ts",
  "build-schema": "commands/build/schema.ts",
  bench: "bench/main.ts",
  secrets: "commands/secrets/main.ts",
  scenario: "commands/scenario/main.ts",
  receiver: "workers/receiver/main.ts",
  "build-rules": "commands/build/rules.ts",
  "stack-local": "commands/stack/local.ts",
  "build-dashboards": "commands/build/dashboards.ts",
  "secrets-fanout": "commands/secrets/fan_out_main.ts",
  stack: "commands/stack/cli.ts",
};

// prom-client and bcryptjs call require() for Node built-ins; an ESM bundle has none.
const requireShim = 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);';

const extra = process.argv.slice(2);
const entries = extra.length > 0 ? Object.fromEntries(Object.entries(ENTRY_POINTS).filter(([k]) => extra.includes(k))) : ENTRY_POINTS;

await build({
  entryPoints: entries,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  minify: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: { js: requireShim },
  legalComments: "none",
  metafile: false,
  logLevel: "warning",
});
