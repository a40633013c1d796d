/**
 * `npm run dev` / `deno task dev`: the simulator and the exporter together on
 * this machine, no Docker. Flags and environment pass through to both. The
 * simulator also runs the batch job `batch_orders`, and the exporter reads
 * the example catalog `deploy/pipelines.example.yml`.
 * The URLs are printed once both answer; a worker that stops before that
 * (a taken port, a bad setting) stops the other, and dev exits with its code.
 * Ctrl-C stops both and exits 0; if one stops by itself later (the `crash`
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
import { v8FlagsFor } from "../lib/config/v8_flags.ts";
import { metricsCredentialOptions, resolveCredential } from "./credentials.ts";
import { listenFailure, serveFetch } from "./serve.ts";
import { settingAsGiven, startWorker } from "./start.ts";

const DENO_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys"];

// Only the flags both workers share are checked here; each worker checks its own.
const passThrough = process.argv.slice(2);
const settings = await startWorker(COMMON_SETTINGS, "Usage: dev [flags shared by simulator and exporter]");
const log = getLogger(["etl", "dev"]);

const ports = { simulator: settings.simulatorPort, exporter: settings.exporterPort } as const;
// A port another program holds is named here, before anything starts: once a worker
// runs, a probe of that port could be answered by the other program instead.
for (const worker of ["simulator", "exporter"] as const) {
  const options = { port: ports[worker], hostname: settings.host };
  try {
    await (await serveFetch(() => new Response(null), options)).close();
  } catch (error) {
    const setting = settingAsGiven(settings, worker === "simulator" ? "simulatorPort" : "exporterPort");
    const failure = listenFailure(error, { ...options, portSetting: setting, hostSetting: settingAsGiven(settings, "host") });
    process.stderr.write(`dev: the ${worker} ${failure.message}\n`);
    process.exit(failure.exitCode);
  }
}

// Made here, before the workers start, so the message about them is printed once.
const credential = await resolveCredential(
  metricsCredentialOptions(settings.metricsUser, settings.metricsPasswordFile, `http://${settings.host}:${settings.simulatorPort}/metrics`),
);

let stopping = false;
let started = false;
let startFailedWith: number | undefined;
const children = new Map<string, ChildProcess>();
const stopAll = () => {
  for (const child of children.values()) child.kill("SIGTERM");
  // A worker that does not stop in 5 s is killed, so Ctrl-C always ends the run.
  setTimeout(() => {
    for (const child of children.values()) child.kill("SIGKILL");
  }, 5_000).unref();
};
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (children.size === 0) process.exit(0);
  stopAll();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// A batch job beside the always-on pipeline, and the example catalog that describes both,
// unless the environment says otherwise (an empty ETL_BATCH_PIPELINES turns the job off).
const EXAMPLE_CATALOG = fileURLToPath(new URL("../deploy/pipelines.example.yml", import.meta.url));
const workerEnv = {
  simulator: { ETL_BATCH_PIPELINES: process.env.ETL_BATCH_PIPELINES ?? "batch_orders" },
  exporter: process.env.ETL_PIPELINES_FILE === undefined && existsSync(EXAMPLE_CATALOG) ? { ETL_PIPELINES_FILE: EXAMPLE_CATALOG } : {},
};
for (const worker of ["simulator", "exporter"] as const) {
  const [command, args] = commandFor(worker);
  // The exporter takes pushed events in dev (its token is made in ./secrets on first run).
  const ingest = worker === "exporter" ? { ETL_INGEST: "1" } : {};
  const child = spawn(command, [...args, ...passThrough], { stdio: "inherit", env: { ...ingest, ...process.env, ...workerEnv[worker] } });
  children.set(worker, child);
  child.on("exit", (code, signal) => {
    children.delete(worker);
    if (!stopping && !started) {
      // Half a dev stack is no use, and its banner would show a dead URL.
      log.error("The {worker} stopped at start (code {code}, signal {signal}): stopping the rest", { worker, code, signal });
      stopping = true;
      startFailedWith = code === null || code === 0 ? 1 : code;
      stopAll();
    } else if (!stopping) {
      const how = signal === null ? "exit code {code}" : "signal {signal}";
      log.warn(`The {worker} stopped (${how})`, { worker, code, signal });
    }
    if (children.size === 0) process.exit(startFailedWith ?? (stopping ? 0 : 1));
  });
}
// Both answer /-/healthy once they listen; only then are the URLs worth printing.
await Promise.all(
  (["simulator", "exporter"] as const).map(async (worker) => {
    while (children.has(worker) && !stopping) {
      const ok = await fetch(probeUrl(settings.host, ports[worker]), { signal: AbortSignal.timeout(1_000) })
        .then((r) => (r.body?.cancel(), r.ok), () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }),
);
if (stopping) await new Promise(() => {}); // the exit handler above ends the process
started = true;

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

/** How to start a worker with the runtime and the form (bundle or source) this file runs as. */
function commandFor(worker: "simulator" | "exporter"): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = fileURLToPath(new URL(fromSource ? `./${worker}/main.ts` : `./${worker}.mjs`, import.meta.url));
  const v8Flags = v8FlagsFor(worker);
  if (deno) return [deno.execPath(), ["run", ...DENO_PERMISSIONS, ...(v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : []), entry]];
  return [process.execPath, [...v8Flags, entry]];
}

/** Where to ask a worker listening on `host` whether it serves: a wildcard address is reached on loopback. */
function probeUrl(host: string, port: number): string {
  const reach = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reach.includes(":") ? `[${reach}]` : reach}:${port}/-/healthy`;
}
