/**
 * `npm run dev` / `deno task dev`: the simulator and the exporter together on
 * this machine, no Docker. Flags and environment pass through to both. The
 * simulator also runs the batch job `batch_orders`, and the exporter reads
 * the example catalog `deploy/pipelines.example.yml`.
 * Ctrl-C stops both and exits 0; if one stops by itself (the `crash`
 * scenario, say) the other keeps running, so its effect can be watched.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import { COMMON_SETTINGS } from "../lib/config/settings.ts";
import { resolveMetricsCredential } from "./credentials.ts";
import { startWorker } from "./start.ts";

const DENO_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys"];

// Only the flags both workers share are checked here; each worker checks its own.
const passThrough = process.argv.slice(2);
const settings = await startWorker(COMMON_SETTINGS, "Usage: dev [flags shared by simulator and exporter]");
const log = getLogger(["etl", "dev"]);

// Made here, before the workers start, so the message about them is printed once.
const credential = await resolveMetricsCredential(
  settings.metricsUser,
  settings.metricsPasswordFile,
  `http://${settings.host}:${settings.simulatorPort}/metrics`,
);

let stopping = false;
const children = new Map<string, ChildProcess>();
// A batch job beside the always-on pipeline, and the example catalog that describes both,
// unless the environment says otherwise (an empty ETL_BATCH_PIPELINES turns the job off).
const EXAMPLE_CATALOG = fileURLToPath(new URL("../deploy/pipelines.example.yml", import.meta.url));
const workerEnv = {
  simulator: { ETL_BATCH_PIPELINES: process.env.ETL_BATCH_PIPELINES ?? "batch_orders" },
  exporter: process.env.ETL_PIPELINES_FILE === undefined && existsSync(EXAMPLE_CATALOG) ? { ETL_PIPELINES_FILE: EXAMPLE_CATALOG } : {},
};
for (const worker of ["simulator", "exporter"] as const) {
  const [command, args] = commandFor(worker);
  const child = spawn(command, [...args, ...passThrough], { stdio: "inherit", env: { ...process.env, ...workerEnv[worker] } });
  children.set(worker, child);
  child.on("exit", (code, signal) => {
    children.delete(worker);
    if (!stopping) log.warn("The {worker} stopped (code {code}, signal {signal})", { worker, code, signal });
    if (children.size === 0) process.exit(stopping ? 0 : 1);
  });
}

const host = settings.host;
const passwordHint = credential.passwordFile ? `$(cat ${credential.passwordFile})` : "<password>";
process.stderr.write(
  [
    "",
    `  exporter   http://${host}:${settings.exporterPort}/metrics   curl -s http://${host}:${settings.exporterPort}/metrics | grep ^etl_`,
    `  health     curl -s http://${host}:${settings.exporterPort}/health   (the always-on etl and the batch job batch_orders)`,
    `  simulator  http://${host}:${settings.simulatorPort}/metrics   curl -s -u "${credential.user}:${passwordHint}" http://${host}:${settings.simulatorPort}/metrics`,
    "  Ctrl-C stops both.",
    "",
  ].join("\n") + "\n",
);

const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill("SIGTERM");
  if (children.size === 0) process.exit(0);
  // A worker that does not stop in 5 s is killed, so Ctrl-C always ends the run.
  setTimeout(() => {
    for (const child of children.values()) child.kill("SIGKILL");
  }, 5_000).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

/** How to start a worker with the runtime and the form (bundle or source) this file runs as. */
function commandFor(worker: "simulator" | "exporter"): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = fileURLToPath(new URL(fromSource ? `./${worker}/main.ts` : `./${worker}.mjs`, import.meta.url));
  if (deno) return [deno.execPath(), ["run", ...DENO_PERMISSIONS, entry]];
  return [process.execPath, [entry]];
}
