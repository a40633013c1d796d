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
 * starting scenario, and 1 s after a switch at run time (`simulation.ts`
 * arms it; this file says what dying means: stop writing, log why, exit 3).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { dispose, getLogger } from "@logtape/logtape";
import * as z from "zod";
import { createApp } from "../../handlers/app.ts";
import { CONTROL_PATH, createControlApp, type ScenarioControl } from "../../handlers/control.ts";
import { PipelineNameSchema } from "../../lib/etl/events.ts";
import { boundedNumber, COMMON_SETTINGS, type SettingsSpec } from "../../lib/config/settings.ts";
import { TLS_SETTINGS } from "../../lib/config/tls_settings.ts";
import { DEFAULT_PROFILE, PipelinesConfigSchema, type Profile, type Scenario, ScenarioSchema } from "../../lib/simulator/profile.ts";
import { bcryptCompareOrExit, credentialAuthOrExit, metricsCredentialOptions } from "../credentials.ts";
import { counted } from "../logging.ts";
import { serveOrExit } from "../serve.ts";
import { onShutdown, settingAsGiven, startWorker } from "../start.ts";
import { readTlsOrExit } from "../tls.ts";
import { claimLogFiles } from "./log_lock.ts";
import { createSimulation, type Simulation } from "./simulation.ts";
import { BatchPipelinesSchema } from "../../lib/simulator/batch.ts";
import { createBatchSimulation } from "./batch_simulation.ts";

const SIMULATOR_SETTINGS = {
  ...COMMON_SETTINGS,
  ...TLS_SETTINGS,
  events: {
    flag: "events",
    help: "Write this many events as fast as possible, then exit (load generation).",
    defaultText: "none: run in real time",
    schema: boundedNumber(1, 1e9, { integer: true }).optional(),
  },
  seed: {
    env: "ETL_SEED",
    flag: "seed",
    help: "Seed of the random generator, to reproduce a run.",
    defaultText: "random",
    schema: boundedNumber(0, 2 ** 32 - 1, { integer: true }).optional(),
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
    help: `Behaviour at start: ${ScenarioSchema.options.join(", ")}.`,
    defaultText: "normal",
    schema: z.enum(ScenarioSchema.options, { error: `must be one of ${ScenarioSchema.options.join(", ")}` }).default("normal"),
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
    schema: boundedNumber(0, 86_400).default(30),
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
const tls = readTlsOrExit(settings);
const log = getLogger(["etl", "simulator"]);

const profiles = loadProfiles(settings.pipelines, settings.pipelinesConfig);
const seed = settings.seed ?? (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0);
const logDir = join(settings.dataDir, "logs");
const batchNames = settings.events === undefined ? Object.keys(settings.batchPipelines ?? {}) : [];
const clash = batchNames.filter((name) => Object.hasOwn(profiles, name));
if (clash.length > 0) exitWith(`--batch-pipelines: ${clash.join(", ")} already simulated as always-on (--pipelines)`);
const logFiles = [...Object.keys(profiles), ...batchNames].map((pipeline) => join(logDir, `${pipeline}.log`));
// Another simulator appending to the same log would read as restarts and jumps in the counts.
const claim = claimLogFiles(logFiles);
if (!claim.ok) {
  process.stderr.write(claim.message + "\n");
  process.exit(1);
}
const simulation = createSimulation({
  logDir,
  pipelines: profiles,
  seed,
  speed: settings.speed,
  scenario: settings.scenario,
  crashAfterMs: settings.crashAfterSeconds * 1000,
  onCrash: crash,
});

// Runs as batch jobs, folded into the same state the simulator's /metrics serves.
const batch = settings.batchPipelines === undefined || batchNames.length === 0
  ? undefined
  : createBatchSimulation({ logDir, pipelines: settings.batchPipelines, seed, speed: settings.speed, state: simulation.state, scenario: settings.scenario });

// Set once the process is dying, so a shutdown signal meanwhile does not close the files twice.
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
  // The result of a one-shot run, on stdout and at once: a log record could be lost at exit.
  process.stdout.write(`Wrote ${counted(settings.events, "event")} to ${logFiles.join(", ")} in ${seconds.toFixed(2)} s (seed ${seed})\n`);
  process.exit(0);
}

const simulatorUrl = `${tls ? "https" : "http"}://${settings.host}:${settings.simulatorPort}`;
// Both credentials' bcrypt compares run in one thread, off the event loop that answers scrapes.
const compare = await bcryptCompareOrExit("simulator");
const metrics = await credentialAuthOrExit(
  "simulator",
  metricsCredentialOptions(settings.metricsUser, settings.metricsPasswordFile, `${simulatorUrl}/metrics`),
  "etl-simulator",
  compare,
);
// A realm of its own, so a browser does not offer the /metrics password for /control.
const controlAuth = await credentialAuthOrExit("simulator", {
  user: settings.controlUser,
  passwordFile: settings.controlPasswordFile,
  devName: "control",
  setting: "ETL_CONTROL_PASSWORD_FILE",
  purpose: "the simulator's /control/scenario",
  hint: (file) => `npm run scenario -- --url ${simulatorUrl} --password-file ${file} stall`,
}, "etl-simulator-control", compare);
const control = simulationControl(simulation);
const app = createApp({
  title: "ETL simulator",
  description: `Simulating pipelines ${Object.keys(profiles).join(", ")}; logs in ${logDir}. ` +
    `GET or PUT ${CONTROL_PATH} (basic auth, user ${controlAuth.credential.user}) switches the scenario.`,
  source: () => ({ state: simulation.state, nowMs: Date.now(), ready: true }),
  metricsAuth: metrics.auth,
});
app.route("/", createControlApp({ control, auth: controlAuth.auth }));

simulation.start();
batch?.start();
const server = await serveOrExit(app.fetch, { port: settings.simulatorPort, hostname: settings.host,
  portSetting: settingAsGiven(settings, "simulatorPort"),
  hostSetting: settingAsGiven(settings, "host"),
  tls,
});
log.info(`Simulator on ${simulatorUrl}/ (pipelines {pipelines}, batch pipelines {batch}, seed {seed}, speed {speed}, scenario {scenario})`, {
  host: settings.host,
  port: server.port,
  pipelines: Object.keys(profiles).join(","),
  batch: batchNames.join(",") || "none",
  seed,
  speed: settings.speed,
  scenario: settings.scenario,
});
onShutdown(async () => {
  // A crash under way has stopped the simulation already (its files are closed).
  if (!crashing) {
    simulation.stop();
    batch?.stop();
  }
  await server.close();
});

/**
 * The simulation seen through the control endpoint: remembers since when the
 * scenario runs, and makes a repeated switch a no-op (a second `stall` would
 * otherwise restart the stall's clock, and the events it held back would
 * come out in a burst on resume).
 */
function simulationControl(sim: Simulation): ScenarioControl {
  let sinceMs = Date.now();
  return {
    current: () => ({ scenario: sim.scenario(), sinceMs }),
    set(next: Scenario) {
      const previous = sim.scenario();
      if (next === previous) return;
      sim.setScenario(next);
      batch?.setScenario(next);
      sinceMs = Date.now();
      log.info("Scenario switched from {previous} to {scenario}", { previous, scenario: next });
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
