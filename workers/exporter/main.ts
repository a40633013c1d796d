/**
 * The exporter (`etl-metrics`): tails `<data-dir>/logs/*.log` and their
 * rotations, folds every
 * line into the state, checkpoints it atomically, and serves `/metrics`,
 * `/health`, `/-/healthy`, `/-/ready` over that state.
 *
 *     npm run exporter                 # serve on 127.0.0.1:8083
 *     npm run exporter -- --once       # read the logs present, print the metrics, exit
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import * as z from "zod";
import { DEFAULT_HEALTH_POLICY } from "../../lib/etl/health.ts";
import { processFamiliesPerSecond } from "../../lib/metrics/process_families.ts";
import { renderMetrics } from "../../lib/metrics/render.ts";
import { boundedNumber, COMMON_SETTINGS, INGEST_LIMIT_SETTINGS, type SettingsSpec } from "../../lib/config/settings.ts";
import { TLS_SETTINGS } from "../../lib/config/tls_settings.ts";
import type { LineOutcome } from "../../lib/etl/ingest.ts";
import { clampToClock, describeDrop, type IngestLimits, maxCheckpointBytes } from "../../lib/etl/limits.ts";
import { perSecondRenderer } from "../../lib/metrics/render_cache.ts";
import type { Snapshot } from "../../lib/etl/snapshot.ts";
import { createIngestState } from "../../lib/etl/state.ts";
import { counted } from "../logging.ts";
import { onShutdown, settingAsGiven, startWorker } from "../start.ts";
import { readTlsOrExit } from "../tls.ts";
import { trimHeapAfterGrowth } from "../heap_trim.ts";
import { CHECKPOINT_VERSION, loadCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { createTailer, type FilePosition } from "./tailer.ts";
import { readCatalogFile, watchCatalogFile } from "./catalog_file.ts";
import type { Catalog } from "../../lib/catalog/entry.ts";
import { createRetirementCounter, retiredPipelines, withoutPipelines } from "../../lib/catalog/retire.ts";
import { parseDuration } from "../../lib/alerts/duration.ts";

const EXPORTER_SETTINGS = {
  ...COMMON_SETTINGS,
  ...INGEST_LIMIT_SETTINGS,
  ...TLS_SETTINGS,
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
    schema: boundedNumber(256, 64 * 1024 * 1024, { integer: true }).default(65_536),
  },
  pollMs: {
    env: "ETL_POLL_MS",
    flag: "poll-ms",
    help: "How often the logs are read for new lines, in milliseconds, when the file system reports no change.",
    defaultText: "250",
    schema: boundedNumber(10, 60_000, { integer: true }).default(250),
  },
  checkpointSeconds: {
    env: "ETL_CHECKPOINT_SECONDS",
    flag: "checkpoint-seconds",
    help: "How often the state and file positions are saved.",
    defaultText: "5",
    schema: boundedNumber(0.1, 3600).default(5),
  },
  staleAfterSeconds: {
    env: "ETL_STALE_AFTER_SECONDS",
    flag: "stale-after-seconds",
    help: "Seconds without any event (heartbeats included) after which a pipeline is unhealthy.",
    defaultText: "60",
    schema: boundedNumber(1, 86_400).default(60),
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
    schema: boundedNumber(0, 64, { integer: true }).default(2),
  },
  ingest: {
    env: "ETL_INGEST",
    flag: "ingest",
    help: "Serve POST /api/v1/events: events pushed with the bearer token, appended to <data-dir>/logs/pushed-<pipeline>.log.",
    defaultText: "off",
    boolean: true,
    // The flag gives a boolean, ETL_INGEST the text 1/true/0/false.
    schema: z.union([z.boolean(), z.enum(["1", "true", "0", "false"]).transform((v) => v === "1" || v === "true")]).default(false),
  },
  ingestTokenFile: {
    env: "ETL_INGEST_TOKEN_FILE",
    flag: "ingest-token-file",
    help: "SHA-256 hash (hex) of the push token; when unset, ./secrets/ingest_token(.sha256) are made on first run.",
    defaultText: "./secrets/ingest_token.sha256",
    schema: z.string().min(1).optional(),
  },
  ingestMaxBodyBytes: {
    env: "ETL_INGEST_MAX_BODY_BYTES",
    flag: "ingest-max-body-bytes",
    help: "Larger push bodies are answered 413.",
    defaultText: "1048576",
    schema: boundedNumber(1024, 256 * 1024 * 1024, { integer: true }).default(1_048_576),
  },
  ingestQueueEvents: {
    env: "ETL_INGEST_QUEUE_EVENTS",
    flag: "ingest-queue-events",
    help: "Pushed events waiting for the disk beyond this are answered 429 with Retry-After.",
    defaultText: "100000",
    schema: boundedNumber(1, 10_000_000, { integer: true }).default(100_000),
  },
  ingestDedupeHours: {
    env: "ETL_INGEST_DEDUPE_HOURS",
    flag: "ingest-dedupe-hours",
    help: "How long a pushed event_id is remembered: a repeat within it is a duplicate.",
    defaultText: "24",
    schema: boundedNumber(24, 24 * 365).default(24),
  },
  ingestDedupeIds: {
    env: "ETL_INGEST_DEDUPE_IDS",
    flag: "ingest-dedupe-ids",
    help: "Most event_ids remembered at once (the oldest are forgotten first); bounds the window's memory.",
    defaultText: "1000000",
    schema: boundedNumber(1000, 100_000_000, { integer: true }).default(1_000_000),
  },
} satisfies SettingsSpec;

const settings = await startWorker(EXPORTER_SETTINGS, "Usage: exporter [flags]");
const tls = readTlsOrExit(settings);
const log = getLogger(["etl", "exporter"]);
const badLineLog = getLogger(["etl", "ingest", "bad-line"]);
const droppedLineLog = getLogger(["etl", "ingest", "dropped-line"]);
// Cataloged pipelines always fit under the cap: filled from the catalog, kept current when it is re-read.
const cataloged = new Set<string>();
const limits: IngestLimits = { maxPipelines: settings.maxPipelines, maxAheadMs: settings.maxClockAheadSeconds * 1000, alwaysFit: cataloged };
const catalogFits = (next: Catalog) => {
  cataloged.clear();
  for (const name of Object.keys(next.pipelines)) cataloged.add(name);
};
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
  catalogFits(catalog);
  log.info("Pipeline catalog {path}: {count} pipelines", { path: settings.pipelinesFile, count: Object.keys(catalog.pipelines).length });
}

let state = createIngestState();
let positions: Record<string, FilePosition> | undefined;
let checkpointSavedAtMs: number | null = null;
if (!settings.once) {
  // Bounded by the limits: a file no exporter with them could have written would only crash-loop us.
  const saved = await loadCheckpoint(checkpointPath, maxCheckpointBytes({ ...limits, maxPipelines: limits.maxPipelines + cataloged.size }));
  if (saved.checkpoint) {
    state = saved.checkpoint.state;
    positions = saved.checkpoint.files;
    const fixed = clampToClock(state, Date.now());
    if (fixed > 0) log.warn("The checkpoint had times ahead of the clock in {fixed} pipelines: set back to now", { fixed });
    checkpointSavedAtMs = saved.checkpoint.savedAtMs;
    log.info("Resuming from the checkpoint of {savedAt}", { savedAt: new Date(saved.checkpoint.savedAtMs).toISOString() });
  } else if (saved.problem) {
    log.error("Checkpoint {path} not used (moved to {movedTo}), counting from the start of the logs: {problem}", {
      path: checkpointPath,
      movedTo: saved.movedTo,
      problem: saved.problem,
    });
  }
}

const warnBadLine = (bad: { result: string; problem: string }, file: string): void => {
  badLineLog.warn("Skipped a {result} line in {file}: {problem}", { result: bad.result, file, problem: bad.problem });
};
const warnDroppedLine = (outcome: Extract<LineOutcome, { result: "dropped" }>, file: string): void => {
  droppedLineLog.warn("Dropped a line of {file} ({reason}): {problem}", { reason: outcome.reason, file, problem: outcome.problem });
};
// The one reader of the log directory: catch-up, --once and tailing, all within the limits.
const tailer = createTailer({
  dir: logDir,
  state,
  maxLineBytes: settings.maxLineBytes,
  limits,
  positions,
  onLine: (outcome, file) => {
    if (outcome.result === "dropped") warnDroppedLine(outcome, file);
    else if (outcome.result !== "parsed" && outcome.result !== "blank") warnBadLine(outcome, file);
  },
  onError: (error, file) => log.error("Cannot read {file}: {error}", { file, error }),
});
/** Reads the backlog on every core. */
const catchUp = () =>
  tailer.catchUp({
    workers: settings.ingestWorkers,
    onBadLine: warnBadLine,
    onFinish: ({ files, bytes, workers }) =>
      log.info("Read the backlog of {fileCount}, {megabytes} MB, with {threads}", {
        files,
        megabytes: Number((bytes / 1e6).toFixed(1)),
        workers,
        fileCount: counted(files, "file"),
        threads: counted(workers, "worker thread"),
      }),
  });
/** Until the catch-up ends the state runs ahead of the positions: nothing is checkpointed. */
let caughtUp = false;

let ready = false;
const healthPolicy = { ...DEFAULT_HEALTH_POLICY, staleAfterMs: settings.staleAfterSeconds * 1000 };
const retirements = createRetirementCounter();
// The view without retired pipelines is rebuilt only when they or the state changed: a scrape
// in the same second then gets the same state object, and its body from the render cache.
let servedView = { key: "", base: state, state };
const servedState = (retired: readonly string[]): typeof state => {
  if (retired.length === 0) return state;
  const key = JSON.stringify([retired, state.bytesRead, state.lines]);
  if (servedView.key !== key || servedView.base !== state) servedView = { key, base: state, state: withoutPipelines(state, retired) };
  return servedView.state;
};
// Retired pipelines are left out of what is served; their state stays, to continue if they log again.
const snapshot = (): Snapshot => {
  const nowMs = Date.now();
  // --once shows everything it read: a one-shot look at old logs must not hide their pipelines.
  const retired = settings.once ? [] : retiredPipelines(state, catalog, nowMs, settings.retireAfter);
  return {
    healthPolicy,
    ...(catalog ? { catalog, catalogLoadedAtMs } : {}),
    state: servedState(retired),
    nowMs,
    ready,
    exporter: {
      pipelinesRetired: retirements.observe(retired),
      checkpointSavedAtMs,
      rotations: tailer.stats.rotations,
      truncations: tailer.stats.truncations,
      filesTailed: tailer.fileCount,
    },
  };
};

if (settings.once) {
  await catchUp();
  ready = true;
  const { body } = renderMetrics({ ...snapshot(), exporter: undefined }, "text");
  process.stdout.write(body);
  process.exit(0);
}

// Loaded only to serve: `--once` (and its peak memory) does without the server and prom-client.
const [{ collectDefaultMetrics, Registry }, { createApp }, { serveOrExit }, { certificateExpiryOf }] = await Promise.all([
  import("prom-client"),
  import("../../handlers/app.ts"),
  import("../serve.ts"),
  import("./certificate_expiry.ts"),
]);
const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });
// nodejs_eventloop_lag_seconds waits a full event-loop turn on every collection, which under
// load is what made the p99 latency; its percentiles (nodejs_eventloop_lag_p99_seconds …) stay.
processRegistry.removeSingleMetric("nodejs_eventloop_lag_seconds");
const processFamilies = processFamiliesPerSecond(() => processRegistry.getMetricsAsJSON());
const certificate = tls ? certificateExpiryOf(tls.cert) : undefined;
const push = settings.ingest ? await (await import("./push_endpoint.ts")).openPushEndpoint(settings, logDir) : undefined;
const app = createApp({
  title: "ETL exporter",
  description: `Prometheus exporter for the ETL logs in ${logDir}.`,
  source: snapshot,
  processMetrics: tls ? async () => [...(await processFamilies()), certificate!] : processFamilies,
  // Lines read, a new catalog and the clock (deadlines, retiring) change what is served; the
  // renderer's key holds all three, so a body serves only the rest of its second.
  metricsRenderer: perSecondRenderer(),
  ingest: push?.handler,
});
const server = await serveOrExit(app.fetch, { port: settings.exporterPort, hostname: settings.host,
  portSetting: settingAsGiven(settings, "exporterPort"),
  hostSetting: settingAsGiven(settings, "host"),
  tls,
});
// A burst of scrapes grows the old space with promoted garbage: given back once it is over.
trimHeapAfterGrowth();
log.info(`Exporter on ${tls ? "https" : "http"}://{host}:{port}/ reading {logDir}`, { host: settings.host, port: server.port, logDir });

const saveCheckpoint = async () => {
  // During the catch-up the state runs ahead of its positions: the old checkpoint stays.
  if (!caughtUp) return;
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
  await push?.sink.close();
  await tailer.close();
  await saveCheckpoint();
  await server.close();
});

const catchUpStarted = performance.now();
await catchUp();
caughtUp = true;
// Whatever arrived during the bulk read.
await tailer.poll();
ready = true;
log.info("Caught up with the logs in {seconds} s (lines: {lines})", {
  seconds: Number(((performance.now() - catchUpStarted) / 1000).toFixed(3)),
  lines: state.lines,
});
// The catch-up describes no dropped line one by one: one line per reason says what and why.
for (const [reason, count] of Object.entries(state.dropped) as [keyof typeof state.dropped, number][]) {
  if (count > 0) log.warn("{count} lines dropped so far ({reason}): {problem}", { count, reason, problem: describeDrop(reason, limits) });
}
if (!stop.signal.aborted) {
  if (settings.pipelinesFile !== undefined) {
    const path = settings.pipelinesFile;
    watchCatalogFile(
      path,
      2000,
      (next) => {
        catalog = next;
        catalogFits(next);
        log.info("Pipeline catalog {path} re-read: {count} pipelines", { path, count: Object.keys(next.pipelines).length });
      },
      (problems) => log.error("Pipeline catalog {path} changed but is not valid; the previous one stays in force: {problems}", { path, problems }),
    );
  }
  await saveCheckpoint();
  tailing = tailer.run(stop.signal, settings.pollMs);
  checkpointTimer = setInterval(saveCheckpoint, settings.checkpointSeconds * 1000);
}
