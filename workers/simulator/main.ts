/**
 * The ETL simulator: writes the log contract's events for one or more
 * pipelines to `<data-dir>/logs/<pipeline>.log`, and serves its own state
 * on `/metrics` behind basic auth (`/health` needs none). `/control/scenario`,
 * behind a credential of its own (user `control`), switches the scenario
 * while it runs.
 *
 *     npm run simulator                       # real time, port 8000
 *     npm run simulator -- --events 100000 --seed 7   # load generation, then exit
 *     npm run scenario -- stall               # switch the running simulator
 *
 * `crash` strikes `--crash-after-seconds` (30) after start-up when it is the
 * starting scenario, so the stack first sees the pipeline run; switched to
 * at run time it strikes after 1 s (or sooner when that setting is shorter):
 * the pipeline has been seen already, and 1 s lets the answer reach the caller.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { dispose, getLogger } from "@logtape/logtape";
import * as z from "zod";
import { createApp } from "../../handlers/app.ts";
import { basicAuth } from "../../handlers/basic_auth.ts";
import { CONTROL_PATH, createControlApp, type ScenarioControl } from "../../handlers/control.ts";
import { createCredentialVerifier } from "../../lib/auth/credential_verifier.ts";
import { PipelineNameSchema } from "../../lib/etl/events.ts";
import { COMMON_SETTINGS, type SettingsSpec } from "../../lib/config/settings.ts";
import { DEFAULT_PROFILE, PipelinesConfigSchema, type Profile, type Scenario, ScenarioSchema } from "../../lib/simulator/profile.ts";
import { resolveCredential, resolveMetricsCredential } from "../credentials.ts";
import { serveOrExit } from "../serve.ts";
import { onShutdown, startWorker } from "../start.ts";
import { createSimulation, type Simulation } from "./simulation.ts";
import { BatchPipelinesSchema } from "../../lib/simulator/batch.ts";
import { createBatchSimulation } from "./batch_simulation.ts";

// A switch to `crash` at run time strikes this soon: long enough for the
// 200 to reach the caller, short enough to watch the effect at once.
const RUNTIME_CRASH_MS = 1_000;

const SIMULATOR_SETTINGS = {
  ...COMMON_SETTINGS,
  events: {
    flag: "events",
    help: "Write this many events as fast as possible, then exit (load generation).",
    defaultText: "none: run in real time",
    schema: z.coerce.number({ error: "must be a number" }).int().positive().max(1e9).optional(),
  },
  seed: {
    env: "ETL_SEED",
    flag: "seed",
    help: "Seed of the random generator, to reproduce a run.",
    defaultText: "random",
    schema: z.coerce.number({ error: "must be a number" }).int().nonnegative().max(2 ** 32 - 1).optional(),
  },
  pipelines: {
    env: "ETL_PIPELINES",
    flag: "pipelines",
    help: "Comma-separated pipeline names, each with the default profile unless --pipelines-config gives one.",
    defaultText: "etl, or the pipelines of --pipelines-config",
    schema: z
      .string()
      .transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean))
      .pipe(z.array(PipelineNameSchema).min(1, "name at least one pipeline"))
      .optional(),
  },
  pipelinesConfig: {
    env: "ETL_PIPELINES_CONFIG",
    flag: "pipelines-config",
    help: "JSON file of profiles: {\"pipelines\": {\"orders\": {\"recordsPerSecond\": 20}}}.",
    defaultText: "none",
    schema: z.string().min(1).optional(),
  },
  scenario: {
    env: "ETL_SCENARIO",
    flag: "scenario",
    help: "Behaviour at start: normal, stall, crash, slow, error-burst, low-throughput.",
    defaultText: "normal",
    schema: ScenarioSchema.default("normal"),
  },
  batchPipelines: {
    env: "ETL_BATCH_PIPELINES",
    flag: "batch-pipelines",
    help: "Batch jobs to simulate beside the always-on pipelines: name[:interval],… (e.g. nightly:1h; default interval 5m, compressed by --speed). Each run starts, writes 4 files, finishes, and the process waits for the next. Not with --events.",
    defaultText: "none",
    schema: BatchPipelinesSchema.optional(),
  },
  crashAfterSeconds: {
    env: "ETL_CRASH_AFTER_SECONDS",
    flag: "crash-after-seconds",
    help: "How long the crash scenario runs from start-up before the process exits with code 3 (a switch to crash at run time strikes after at most 1 s).",
    defaultText: "30",
    schema: z.coerce.number({ error: "must be a number" }).nonnegative("must be 0 or more").max(86_400).default(30),
  },
  controlUser: {
    env: "ETL_CONTROL_USER",
    flag: "control-user",
    help: "User name for /control/scenario (switches the scenario at run time).",
    defaultText: "control",
    schema: z.string().regex(/^[^:\s]{1,64}$/, "must be 1-64 characters without ':' or spaces").default("control"),
  },
  controlPasswordFile: {
    env: "ETL_CONTROL_PASSWORD_FILE",
    flag: "control-password-file",
    help: "File with the password of /control/scenario, or its bcrypt hash; made on first run when unset.",
    defaultText: "./secrets/control_password",
    schema: z.string().min(1).optional(),
  },
} satisfies SettingsSpec;

const settings = await startWorker(SIMULATOR_SETTINGS, "Usage: simulator [flags]");
const log = getLogger(["etl", "simulator"]);

const profiles = loadProfiles(settings.pipelines, settings.pipelinesConfig);
const seed = settings.seed ?? (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0);
const logDir = join(settings.dataDir, "logs");
const simulation = createSimulation({
  logDir,
  pipelines: profiles,
  seed,
  speed: settings.speed,
  scenario: settings.scenario,
  crashAfterMs: settings.crashAfterSeconds * 1000,
  onCrash: crash,
});

const batchNames = Object.keys(settings.batchPipelines ?? {});
const clash = batchNames.filter((name) => Object.hasOwn(profiles, name));
if (clash.length > 0) exitWith(`--batch-pipelines: ${clash.join(", ")} already simulated as always-on (--pipelines)`);
// Runs as batch jobs, folded into the same state the simulator's /metrics serves.
const batch = settings.batchPipelines === undefined || batchNames.length === 0 || settings.events !== undefined
  ? undefined
  : createBatchSimulation({ logDir, pipelines: settings.batchPipelines, seed, speed: settings.speed, state: simulation.state, scenario: settings.scenario });

// Both the simulation's start-up timer and a run-time switch's can strike; the second must do nothing.
let crashing = false;
function crash(): void {
  if (crashing) return;
  crashing = true;
  // A dead process writes nothing more; stopping first keeps that true while the log drains.
  simulation.stop();
  batch?.stop();
  log.error("Scenario crash: the simulated ETL process dies now (exit code 3)");
  // The log sink writes asynchronously: exiting at once would lose the line saying why.
  void dispose().finally(() => process.exit(3));
}

if (settings.events !== undefined) {
  const started = performance.now();
  simulation.generate(settings.events);
  simulation.stop();
  const seconds = (performance.now() - started) / 1000;
  log.info("Wrote {events} events to {logDir} in {seconds} s (seed {seed})", {
    events: settings.events,
    logDir,
    seconds: Number(seconds.toFixed(2)),
    seed,
  });
  process.exit(0);
}

// A bad password file is a setting to fix: a message and exit 2, not a stack trace.
const credential = await resolveMetricsCredential(
  settings.metricsUser,
  settings.metricsPasswordFile,
  `http://${settings.host}:${settings.simulatorPort}/metrics`,
).catch((error: Error) => exitWith(error.message));
const verifier = createCredentialVerifier({ user: credential.user, passwordHash: credential.passwordHash });
const controlUrl = `http://${settings.host}:${settings.simulatorPort}`;
const controlCredential = await resolveCredential({
  user: settings.controlUser,
  passwordFile: settings.controlPasswordFile,
  devName: "control",
  setting: "ETL_CONTROL_PASSWORD_FILE",
  purpose: "the simulator's /control/scenario",
  hint: (file) => `npm run scenario -- --url ${controlUrl} --password-file ${file} stall`,
}).catch((error: Error) => exitWith(error.message));
const controlVerifier = createCredentialVerifier({ user: controlCredential.user, passwordHash: controlCredential.passwordHash });
const control = simulationControl(simulation, Math.min(RUNTIME_CRASH_MS, settings.crashAfterSeconds * 1000));
const app = createApp({
  title: "ETL simulator",
  description: `Simulating pipelines ${Object.keys(profiles).join(", ")}; logs in ${logDir}. ` +
    `GET or PUT ${CONTROL_PATH} (basic auth, user ${controlCredential.user}) switches the scenario.`,
  source: () => ({ state: simulation.state, nowMs: Date.now(), ready: true }),
  metricsAuth: basicAuth(verifier, { realm: "etl-simulator" }),
});
// A realm of its own, so a browser does not offer the /metrics password here.
app.route("/", createControlApp({ control, auth: basicAuth(controlVerifier, { realm: "etl-simulator-control" }) }));

simulation.start();
batch?.start();
const server = await serveOrExit(app.fetch, { port: settings.simulatorPort, hostname: settings.host, setting: "SIMULATOR_PORT" });
log.info("Simulator on http://{host}:{port}/ (pipelines {pipelines}, batch pipelines {batch}, seed {seed}, speed {speed}, scenario {scenario})", {
  host: settings.host,
  port: server.port,
  pipelines: Object.keys(profiles).join(","),
  batch: batchNames.join(",") || "none",
  seed,
  speed: settings.speed,
  scenario: settings.scenario,
});
onShutdown(async () => {
  control.dispose();
  // A crash under way has stopped the simulation already (its files are closed).
  if (!crashing) {
    simulation.stop();
    batch?.stop();
  }
  await server.close();
});

/**
 * The simulation seen through the control endpoint: remembers since when the
 * scenario runs, makes a repeated switch a no-op (a second `stall` would
 * otherwise restart the stall's clock, and the events it held back would
 * come out in a burst on resume), and makes a run-time `crash` strike after
 * `runtimeCrashMs` instead of the start-up delay.
 */
function simulationControl(sim: Simulation, runtimeCrashMs: number): ScenarioControl & { dispose(): void } {
  let sinceMs = Date.now();
  let crashTimer: ReturnType<typeof setTimeout> | undefined;
  return {
    current: () => ({ scenario: sim.scenario(), sinceMs }),
    set(next: Scenario) {
      const previous = sim.scenario();
      if (next === previous) return;
      clearTimeout(crashTimer);
      crashTimer = undefined;
      // The simulation arms its own (start-up length) crash timer too; ours strikes first.
      sim.setScenario(next);
      batch?.setScenario(next);
      if (next === "crash") crashTimer = setTimeout(crash, runtimeCrashMs);
      sinceMs = Date.now();
      log.info("Scenario switched from {previous} to {scenario}", { previous, scenario: next });
    },
    dispose() {
      clearTimeout(crashTimer);
    },
  };
}

function loadProfiles(names: string[] | undefined, configFile: string | undefined): Record<string, Profile> {
  const profiles: Record<string, Profile> = {};
  let configured: Record<string, Profile> = {};
  if (configFile !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(configFile, "utf8"));
    } catch (error) {
      exitWith(`--pipelines-config ${configFile}: ${(error as Error).message}`);
    }
    const parsed = PipelinesConfigSchema.safeParse(json);
    if (!parsed.success) exitWith(`--pipelines-config ${configFile}: ${z.prettifyError(parsed.error)}`);
    configured = parsed.data.pipelines;
  }
  const wanted = names ?? (configFile !== undefined ? Object.keys(configured) : ["etl"]);
  for (const name of wanted) profiles[name] = configured[name] ?? DEFAULT_PROFILE;
  return profiles;
}

function exitWith(message: string): never {
  process.stderr.write(message + "\n");
  process.exit(2);
}
