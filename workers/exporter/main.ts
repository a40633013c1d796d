/**
 * The exporter (`etl-metrics`): tails `<data-dir>/logs/*.log`, folds every
 * line into the state, checkpoints it atomically, and serves `/metrics`,
 * `/health`, `/-/healthy`, `/-/ready` over that state.
 *
 *     npm run exporter                 # serve on 127.0.0.1:8083
 *     npm run exporter -- --once       # read the logs present, print the metrics, exit
 *
 * @module
 */
/// <reference path="../../lib/metrics/prom_client_modules.d.ts" />
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import type { Metric } from "prom-client";
// Their own modules, not prom-client's index (which adds the Summary, the Pushgateway and
// the cluster aggregator): see lib/metrics/prom_client_modules.d.ts.
import collectDefaultMetrics from "prom-client/lib/defaultMetrics.js";
import Registry from "prom-client/lib/registry.js";
import * as z from "zod";
import { createApp } from "../../handlers/app.ts";
import { DEFAULT_HEALTH_POLICY } from "../../lib/etl/health.ts";
import { renderMetrics } from "../../lib/metrics/render.ts";
import { COMMON_SETTINGS, type SettingsSpec } from "../../lib/config/settings.ts";
import type { Snapshot } from "../../lib/etl/snapshot.ts";
import { createIngestState } from "../../lib/etl/state.ts";
import { serveOrExit } from "../serve.ts";
import { onShutdown, startWorker } from "../start.ts";
import { bulkIngest } from "./bulk_ingest.ts";
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { createTailer, type FilePosition, type Tailer } from "./tailer.ts";
import { readCatalogFile, watchCatalogFile } from "./catalog_file.ts";
import type { Catalog } from "../../lib/catalog/entry.ts";
import { createRetirementCounter, retiredPipelines, withoutPipelines } from "../../lib/catalog/retire.ts";
import { parseDuration } from "../../lib/alerts/duration.ts";

const EXPORTER_SETTINGS = {
  ...COMMON_SETTINGS,
  once: {
    flag: "once",
    help: "Read the logs present from the start, print the metrics, exit 0 (no server, no checkpoint).",
    defaultText: "off",
    boolean: true,
    schema: z.boolean().default(false),
  },
  maxLineBytes: {
    env: "ETL_MAX_LINE_BYTES",
    flag: "max-line-bytes",
    help: "Longer log lines are skipped and counted as too_long.",
    defaultText: "65536",
    schema: z.coerce.number({ error: "must be a number" }).int().min(256).max(64 * 1024 * 1024).default(65_536),
  },
  pollMs: {
    env: "ETL_POLL_MS",
    flag: "poll-ms",
    help: "How often the logs are read for new lines, in milliseconds.",
    defaultText: "250",
    schema: z.coerce.number({ error: "must be a number" }).int().min(10).max(60_000).default(250),
  },
  checkpointSeconds: {
    env: "ETL_CHECKPOINT_SECONDS",
    flag: "checkpoint-seconds",
    help: "How often the state and file positions are saved.",
    defaultText: "5",
    schema: z.coerce.number({ error: "must be a number" }).min(0.1).max(3600).default(5),
  },
  staleAfterSeconds: {
    env: "ETL_STALE_AFTER_SECONDS",
    flag: "stale-after-seconds",
    help: "Seconds without any event (heartbeats included) after which a pipeline is unhealthy.",
    defaultText: "60",
    schema: z.coerce.number({ error: "must be a number" }).min(1).max(86_400).default(60),
  },
  pipelinesFile: {
    env: "ETL_PIPELINES_FILE",
    flag: "pipelines-file",
    help: "The pipeline catalog (YAML or JSON): schedules, grace, max_run_duration, min_records, kind, labels. Re-read when it changes.",
    defaultText: "none",
    schema: z.string().min(1, "must not be empty").optional(),
  },
  retireAfter: {
    env: "ETL_RETIRE_AFTER",
    flag: "retire-after",
    help: "A pipeline not in the catalog that logged nothing for this long (30m, 7d…) leaves /metrics and /health until it logs again (not with --once).",
    defaultText: "7d",
    schema: z
      .string()
      .default("7d")
      .transform((text, ctx) => {
        try {
          const ms = parseDuration(text) * 1000;
          if (ms > 0) return ms;
        } catch {
          // reported below
        }
        ctx.addIssue({ code: "custom", message: "must be a duration like 30m, 12h or 7d" });
        return z.NEVER;
      }),
  },
  ingestWorkers: {
    env: "ETL_INGEST_WORKERS",
    flag: "ingest-workers",
    help: "Threads that parse the backlog at start-up (and in --once); 0 parses in the main thread.",
    defaultText: "2",
    schema: z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(0).max(64).default(2),
  },
} satisfies SettingsSpec;

const settings = await startWorker(EXPORTER_SETTINGS, "Usage: exporter [flags]");
const log = getLogger(["etl", "exporter"]);
const badLineLog = getLogger(["etl", "ingest", "bad-line"]);
const logDir = join(settings.dataDir, "logs");
const checkpointPath = join(settings.dataDir, "exporter-checkpoint.json");
// The exporter may start before anything wrote a log: its checkpoint still needs a folder.
mkdirSync(settings.dataDir, { recursive: true });

// The catalog comes first: a bad one stops the exporter before it reads anything.
let catalog: Catalog | undefined;
const catalogLoadedAtMs = Date.now();
if (settings.pipelinesFile !== undefined) {
  const result = readCatalogFile(settings.pipelinesFile);
  if (!result.ok) {
    process.stderr.write(`exporter: the pipelines file ${settings.pipelinesFile} is not valid:\n${result.problems.map((p) => `  - ${p}`).join("\n")}\n`);
    process.exit(2);
  }
  catalog = result.catalog;
  log.info("Pipeline catalog {path}: {count} pipelines", { path: settings.pipelinesFile, count: Object.keys(catalog.pipelines).length });
}

let state = createIngestState();
let positions: Record<string, FilePosition> | undefined;
let checkpointSavedAtMs: number | null = null;
if (!settings.once) {
  const saved = await readCheckpoint(checkpointPath);
  if (saved.checkpoint) {
    state = saved.checkpoint.state;
    positions = saved.checkpoint.files;
    checkpointSavedAtMs = saved.checkpoint.savedAtMs;
    log.info("Resuming from the checkpoint of {savedAt}", { savedAt: new Date(saved.checkpoint.savedAtMs).toISOString() });
  } else if (saved.problem) {
    log.error("Checkpoint {path} not used, counting from the start of the logs: {problem}", {
      path: checkpointPath,
      problem: saved.problem,
    });
  }
}

const warnBadLine = (bad: { result: string; problem: string }, file: string): void => {
  badLineLog.warn("Skipped a {result} line in {file}: {problem}", { result: bad.result, file, problem: bad.problem });
};
/** Reads the backlog on every core; the tailer then resumes from the positions it returns. */
const catchUp = (from: Record<string, FilePosition> | undefined) =>
  bulkIngest({
    dir: logDir,
    state,
    positions: from,
    maxLineBytes: settings.maxLineBytes,
    workers: settings.ingestWorkers,
    onBadLine: warnBadLine,
    onError: (error, file) => log.error("Cannot read {file}: {error}", { file, error }),
    onFinish: ({ files, bytes, workers }) =>
      log.info("Read the backlog of {files} files, {megabytes} MB, with {workers} worker threads", {
        files,
        megabytes: Number((bytes / 1e6).toFixed(1)),
        workers,
      }),
  });
// Made after the catch-up, from the positions it reached; until then nothing is checkpointed.
let tailer: Tailer | undefined;
const makeTailer = (from: Record<string, FilePosition>): Tailer =>
  createTailer({
    dir: logDir,
    state,
    maxLineBytes: settings.maxLineBytes,
    positions: from,
    onLine: (outcome, file) => {
      if (outcome.result !== "parsed" && outcome.result !== "blank") warnBadLine(outcome, file);
    },
    onError: (error, file) => log.error("Cannot read {file}: {error}", { file, error }),
  });

let ready = false;
const healthPolicy = { ...DEFAULT_HEALTH_POLICY, staleAfterMs: settings.staleAfterSeconds * 1000 };
const retirements = createRetirementCounter();
// Retired pipelines are left out of what is served; their state stays, to continue if they log again.
const snapshot = (): Snapshot => {
  const nowMs = Date.now();
  // --once shows everything it read: a one-shot look at old logs must not hide their pipelines.
  const retired = settings.once ? [] : retiredPipelines(state, catalog, nowMs, settings.retireAfter);
  return {
    healthPolicy,
    ...(catalog ? { catalog, catalogLoadedAtMs } : {}),
    state: withoutPipelines(state, retired),
    nowMs,
    ready,
    exporter: {
      pipelinesRetired: retirements.observe(retired),
      checkpointSavedAtMs,
      rotations: tailer?.stats.rotations ?? 0,
      truncations: tailer?.stats.truncations ?? 0,
      filesTailed: Object.keys(tailer?.positions() ?? {}).length,
    },
  };
};

if (settings.once) {
  await catchUp(undefined);
  ready = true;
  const { body } = await renderMetrics({ ...snapshot(), exporter: undefined }, "text");
  process.stdout.write(body);
  process.exit(0);
}

const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });
const app = createApp({
  title: "ETL exporter",
  description: `Prometheus exporter for the ETL logs in ${logDir}.`,
  source: snapshot,
  // nodejs_eventloop_lag_seconds waits a full event-loop turn on every scrape, which under
  // load is what made the p99 latency; its percentiles (nodejs_eventloop_lag_p99_seconds …) stay.
  processMetrics: (processRegistry.getMetricsAsArray() as unknown as Metric[]).filter(
    (metric) => (metric as unknown as { name: string }).name !== "nodejs_eventloop_lag_seconds",
  ),
});
const server = await serveOrExit(app.fetch, { port: settings.exporterPort, hostname: settings.host, setting: "EXPORTER_PORT" });
log.info("Exporter on http://{host}:{port}/ reading {logDir}", { host: settings.host, port: server.port, logDir });

const saveCheckpoint = async () => {
  // During the catch-up the state runs ahead of any positions there are: the old checkpoint stays.
  if (tailer === undefined) return;
  const savedAtMs = Date.now();
  try {
    await writeCheckpoint(checkpointPath, { checkpointVersion: CHECKPOINT_VERSION, savedAtMs, state, files: tailer.positions() });
    checkpointSavedAtMs = savedAtMs;
  } catch (error) {
    log.error("Cannot write the checkpoint {path}: {error}", { path: checkpointPath, error });
  }
};

// Registered before the catch-up: a SIGTERM after it saves what was read so far; one during
// the bulk read saves nothing (the previous checkpoint still matches the logs).
const stop = new AbortController();
let tailing: Promise<void> = Promise.resolve();
let checkpointTimer: ReturnType<typeof setInterval> | undefined;
onShutdown(async () => {
  stop.abort();
  clearInterval(checkpointTimer);
  await tailing;
  await tailer?.close();
  await saveCheckpoint();
  await server.close();
});

const catchUpStarted = performance.now();
const caughtUp = await catchUp(positions);
tailer = makeTailer(caughtUp);
// Whatever arrived during the bulk read, and files it left to the tailer (rotated while we were down).
await tailer.poll();
ready = true;
log.info("Caught up with the logs in {seconds} s: {lines} lines", {
  seconds: Number(((performance.now() - catchUpStarted) / 1000).toFixed(3)),
  lines: state.lines,
});
if (!stop.signal.aborted) {
  if (settings.pipelinesFile !== undefined) {
    const path = settings.pipelinesFile;
    watchCatalogFile(
      path,
      2000,
      (next) => {
        catalog = next;
        log.info("Pipeline catalog {path} re-read: {count} pipelines", { path, count: Object.keys(next.pipelines).length });
      },
      (problems) => log.error("Pipeline catalog {path} changed but is not valid; the previous one stays in force: {problems}", { path, problems }),
    );
  }
  await saveCheckpoint();
  tailing = tailer.run(stop.signal, settings.pollMs);
  checkpointTimer = setInterval(saveCheckpoint, settings.checkpointSeconds * 1000);
}
