/**
 * A simulated batch job as a pure schedule: a run every `everyMs` (profile
 * time, compressed by the speed) that starts, processes a few files,
 * heartbeats while it works and finishes with a status, then waits in the
 * same process, silent, for its next run. Like the always-on engine it
 * reads no clock; the simulator worker writes its plan at the right moments.
 *
 * Batch scenarios, each provoking one alert of the catalog:
 * - `late`: runs are skipped (EtlPipelineLate);
 * - `hung`: the next run starts and never finishes, heartbeating (EtlRunTooLong);
 *   leaving `hung` gives that run up, and the next start counts it failed;
 * - `empty`: runs succeed with 0 records (EtlEmptyRun);
 * - `volume-drop`: runs have a fifth of the usual records (EtlVolumeDrop).
 * Any other scenario runs normally (`stall` and `crash` act on the process).
 *
 * @example
 * ```ts
 * import { createBatchEngine, DEFAULT_BATCH_PROFILE } from "./batch.ts";
 * import { createRandom } from "./random.ts";
 * const engine = createBatchEngine({ profile: DEFAULT_BATCH_PROFILE, random: createRandom(1), startMs: 0 });
 * engine.next(); // { atMs: 0, event: "etl_started" }
 * ```
 * @module
 */
import * as z from "zod";
import { parseDuration } from "../alerts/duration.ts";
import { PipelineNameSchema } from "../etl/events.ts";
import { HEARTBEAT_INTERVAL_MS, type PlannedEvent } from "./engine.ts";
import type { Random } from "./random.ts";

/** What a simulated batch job does each run. Times are profile milliseconds. */
export interface BatchProfile {
  everyMs: number;
  filesPerRun: number;
  minRecordsPerFile: number;
  maxRecordsPerFile: number;
  /** How long one file takes. */
  fileMs: number;
}

/**
 * A run every 5 minutes of 4 files of 200–300 records, 15 s each: a
 * minute's work, so a run and the wait for the next both show at speed 1.
 */
export const DEFAULT_BATCH_PROFILE: Readonly<BatchProfile> = Object.freeze({
  everyMs: 300_000,
  filesPerRun: 4,
  minRecordsPerFile: 200,
  maxRecordsPerFile: 300,
  fileMs: 15_000,
});

/** The scenarios only batch jobs know. */
export const BATCH_SCENARIOS = ["late", "hung", "empty", "volume-drop"] as const;
/** One of {@linkcode BATCH_SCENARIOS}. */
export type BatchScenario = (typeof BATCH_SCENARIOS)[number];

/** What a batch engine plans: events of the contract, the run's end included, with their times. */
export type BatchPlannedEvent = PlannedEvent;

/** Options of {@linkcode createBatchEngine}. */
export interface BatchEngineOptions {
  profile: BatchProfile;
  random: Random;
  /** The first run starts here. */
  startMs: number;
  speed?: number;
}

/** A batch job's schedule. */
export interface BatchEngine {
  next(): BatchPlannedEvent;
  peekMs(): number;
  /** Switches scenario from `atMs` on; a run under way finishes as planned unless the switch is to `hung`. */
  setScenario(scenario: string, atMs: number): void;
  /** Shifts every pending time by `pausedMs` (the process was hung that long). */
  resumeAfter(pausedMs: number): void;
}

/** Makes the schedule of one simulated batch job. */
export function createBatchEngine(options: BatchEngineOptions): BatchEngine {
  const speed = options.speed ?? 1;
  const { profile, random } = options;
  const everyMs = profile.everyMs / speed;
  const fileMs = profile.fileMs / speed;
  let scenario = "normal";
  let nextRunMs = options.startMs;
  let runs = 0;
  // The events of the run under way, in order; empty between runs.
  let queue: BatchPlannedEvent[] = [];
  let hung = false;
  let nextHeartbeatMs = Number.POSITIVE_INFINITY;

  const planRun = (atMs: number): BatchPlannedEvent[] => {
    runs += 1;
    const events: BatchPlannedEvent[] = [{ atMs, event: "etl_started" }];
    if (scenario === "hung") return events;
    const files = scenario === "empty" ? 0 : profile.filesPerRun;
    let t = atMs;
    let total = 0;
    for (let i = 1; i <= files; i++) {
      const file = `run${String(runs).padStart(5, "0")}_${String(i).padStart(3, "0")}.csv`;
      let records = random.int(profile.minRecordsPerFile, profile.maxRecordsPerFile);
      if (scenario === "volume-drop") records = Math.max(1, Math.round(records / 5));
      events.push({ atMs: t, event: "file_started", file });
      t += fileMs;
      // The time it took at this speed, as the always-on engine reports it: the log
      // speaks wall time, so a file 10 times faster reports a tenth of the duration.
      events.push({ atMs: t, event: "file_processed", file, records, duration_ms: Math.round(fileMs) });
      total += records;
    }
    events.push({ atMs: t, event: "etl_finished", status: "success", records: total });
    return events;
  };

  /** Plans the due run when none is under way (under `late` none is: the job is skipped). */
  const advance = (): void => {
    if (queue.length > 0 || hung || scenario === "late") return;
    const at = nextRunMs;
    nextRunMs += everyMs;
    queue = planRun(at);
    hung = scenario === "hung";
    nextHeartbeatMs = at + HEARTBEAT_INTERVAL_MS;
  };

  /** When the next event is due: the run's next event or heartbeat, or the next run's start. */
  const peek = (): number => {
    if (queue.length === 0 && !hung) return scenario === "late" ? Number.POSITIVE_INFINITY : nextRunMs;
    const upcoming = queue.length > 0 ? queue[0]!.atMs : Number.POSITIVE_INFINITY;
    return Math.min(upcoming, nextHeartbeatMs);
  };

  return {
    peekMs: peek,
    next() {
      advance();
      const at = peek();
      if (queue.length > 0 && queue[0]!.atMs <= at) {
        const event = queue.shift()!;
        if (event.event === "etl_finished") nextHeartbeatMs = Number.POSITIVE_INFINITY;
        return event;
      }
      if (!Number.isFinite(at)) throw new RangeError("no event is due: the job is skipping its runs (late)");
      nextHeartbeatMs += HEARTBEAT_INTERVAL_MS;
      return { atMs: at, event: "heartbeat", state: "processing" };
    },
    setScenario(next, atMs) {
      // Runs skipped while late are not made up: the next one is the first due from now.
      if (scenario === "late" && next !== "late") while (nextRunMs < atMs) nextRunMs += everyMs;
      if (next !== "hung" && hung) {
        // A hung run is given up: the next run, on schedule, counts it failed (restarted).
        hung = false;
        queue = [];
        nextHeartbeatMs = Number.POSITIVE_INFINITY;
        while (nextRunMs < atMs) nextRunMs += everyMs;
      }
      scenario = next;
    },
    resumeAfter(pausedMs) {
      nextRunMs += pausedMs;
      nextHeartbeatMs += pausedMs;
      for (const event of queue) event.atMs += pausedMs;
    },
  };
}

/**
 * The `--batch-pipelines` setting: comma-separated names, each optionally
 * with its interval (`nightly:1d,hourly:1h`; default 5m), in profile time.
 *
 * @example
 * ```ts
 * BatchPipelinesSchema.parse("nightly:1h").nightly?.everyMs; // 3600000
 * ```
 */
export const BatchPipelinesSchema = z
  .string()
  .transform((text, ctx) => {
    const out: Record<string, BatchProfile> = {};
    for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
      const [name = "", every] = item.split(":");
      if (!PipelineNameSchema.safeParse(name).success) {
        ctx.addIssue({ code: "custom", message: `${JSON.stringify(name)}: pipeline must match ^[a-z0-9][a-z0-9_-]{0,62}$` });
        return z.NEVER;
      }
      let everyMs = DEFAULT_BATCH_PROFILE.everyMs;
      if (every !== undefined) {
        try {
          everyMs = parseDuration(every) * 1000;
        } catch {
          everyMs = 0;
        }
        if (!(everyMs >= 1000)) {
          ctx.addIssue({ code: "custom", message: `${name}: ${JSON.stringify(every)} is not an interval like 5m or 1h (at least 1s)` });
          return z.NEVER;
        }
      }
      out[name] = { ...DEFAULT_BATCH_PROFILE, everyMs };
    }
    return out;
  });
