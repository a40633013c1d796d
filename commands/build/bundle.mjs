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
  "bench-scale": "bench/scale.ts",
  secrets: "commands/secrets/main.ts",
  scenario: "commands/scenario/main.ts",
  receiver: "workers/receiver/main.ts",
  "build-rules": "commands/build/rules.ts",
  "stack-local": "commands/stack/local.ts",
  "build-dashboards": "commands/build/dashboards.ts",
  "secrets-fanout": "commands/secrets/fan_out_main.ts",
  stack: "commands/stack/cli.ts",
  "build-kubernetes": "commands/build/kubernetes.ts",
  "build-mixin": "commands/build/mixin.ts",
  "build-prometheus-config": "commands/build/prometheus_config.ts",
  "build-compose-tls": "commands/build/compose_tls.ts",
  // The package entry `etl-monitoring-stack/emitter`; its types come from `npm run build:types`.
  emitter: "clients/typescript/emitter.ts",
};

// prom-client and bcryptjs call require() for Node built-ins; an ESM bundle has none.
const requireShim = 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);';

const extra = process.argv.slice(2);
if (extra.includes("--help")) {
  process.stdout.write(`Usage: npm run build [-- NAME...]\n  Bundles each worker and command into dist/NAME.mjs (all of them, or the NAMEs given): ${Object.keys(ENTRY_POINTS).join(", ")}.\n`);
  process.exit(0);
}
const unknown = extra.filter((name) => !(name in ENTRY_POINTS));
if (unknown.length > 0) {
  process.stderr.write(`Unknown bundle ${unknown.join(", ")}: the bundles are ${Object.keys(ENTRY_POINTS).join(", ")}\nRun with --help for the usage.\n`);
  process.exit(2);
}
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
