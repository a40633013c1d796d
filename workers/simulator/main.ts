/**
 * The ETL simulator: writes the log contract's events for one or more
 * pipelines to `<data-dir>/logs/<pipeline>.log`, and serves its own state
 * on `/metrics` behind basic auth (`/health` needs none).
 *
 *     npm run simulator                       # real time, port 8000
 *     npm run simulator -- --events 100000 --seed 7   # load generation, then exit
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import * as z from "zod";
import { createApp } from "../../handlers/app.ts";
import { basicAuth } from "../../handlers/basic_auth.ts";
import { createCredentialVerifier } from "../../lib/credential_verifier.ts";
import { PipelineNameSchema } from "../../lib/events.ts";
import { COMMON_SETTINGS, type SettingsSpec } from "../../lib/settings.ts";
import { DEFAULT_PROFILE, PipelinesConfigSchema, type Profile, ScenarioSchema } from "../../lib/simulator/profile.ts";
import { resolveMetricsCredential } from "../credentials.ts";
import { serveFetch } from "../serve.ts";
import { onShutdown, startWorker } from "../start.ts";
import { createSimulation } from "./simulation.ts";

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
  onCrash: () => {
    log.error("Scenario crash: the simulated ETL process dies now");
    process.exit(3);
  },
});

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

const credential = await resolveMetricsCredential(
  settings.metricsUser,
  settings.metricsPasswordFile,
  `http://${settings.host}:${settings.simulatorPort}/metrics`,
);
const verifier = createCredentialVerifier({ user: credential.user, passwordHash: credential.passwordHash });
const app = createApp({
  title: "ETL simulator",
  description: `Simulating pipelines ${Object.keys(profiles).join(", ")}; logs in ${logDir}.`,
  source: () => ({ state: simulation.state, nowMs: Date.now(), ready: true }),
  metricsAuth: basicAuth(verifier, { realm: "etl-simulator" }),
});

simulation.start();
const server = await serveFetch(app.fetch, { port: settings.simulatorPort, hostname: settings.host });
log.info("Simulator on http://{host}:{port}/ (pipelines {pipelines}, seed {seed}, speed {speed}, scenario {scenario})", {
  host: settings.host,
  port: server.port,
  pipelines: Object.keys(profiles).join(","),
  seed,
  speed: settings.speed,
  scenario: settings.scenario,
});
onShutdown(async () => {
  simulation.stop();
  await server.close();
});

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
