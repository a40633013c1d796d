/**
 * The simulation of one pipeline as a pure schedule: it says which event
 * of the log contract comes next and when, from a profile and a seeded
 * generator. It reads no clock and writes nothing; the emitter stamps the
 * time, pipeline and run on each event as it writes it.
 *
 * @example
 * ```ts
 * import { createEngine } from "./engine.ts";
 * import { createRandom } from "./random.ts";
 * import { DEFAULT_PROFILE } from "./profile.ts";
 * const engine = createEngine({ profile: DEFAULT_PROFILE, random: createRandom(1), startMs: 0, pipeline: "etl" });
 * engine.next(); // { atMs: 0, event: "etl_started", version: "simulator" }
 * ```
 * @module
 */
import type { EventBody } from "../etl/emitter.ts";
import type { Profile } from "./profile.ts";
import type { Random } from "./random.ts";

/** Heartbeats come this often (wall time), whatever the speed. */
export const HEARTBEAT_INTERVAL_MS = 5_000;

/** An event of the contract and the time (ms) it is due; the emitter stamps the rest. */
export type PlannedEvent = EventBody & { atMs: number };

/** Options of {@linkcode createEngine}. */
export interface EngineOptions {
  pipeline: string;
  profile: Profile;
  random: Random;
  startMs: number;
  /** Time compression: 60 runs a profile minute in a second. */
  speed?: number;
}

/** A pipeline's schedule. */
export interface Engine {
  /** Takes the next event off the schedule. */
  next(): PlannedEvent;
  /** When the next event is due. */
  peekMs(): number;
  /** Switches profile from `atMs` on; the file under way keeps its plan. */
  setProfile(profile: Profile, atMs: number): void;
  /** Shifts every pending time by `pausedMs` (the process was hung that long). */
  resumeAfter(pausedMs: number): void;
}

const MESSAGES: Record<string, string> = {
  connection_timeout: "Timed out after 30 s connecting to the source database",
  schema_validation: "Column 'amount' expected decimal, got text",
  data_corruption: "Checksum mismatch in block 17",
  disk_full: "No space left on device",
  permission_denied: "Permission denied writing to the staging area",
};

interface FileUnderWay {
  file: string;
  startMs: number;
  records: number;
  endMs: number;
  failed: boolean;
  errorType: string;
}

/** Makes the schedule of one pipeline. */
export function createEngine(options: EngineOptions): Engine {
  const speed = options.speed ?? 1;
  const { random, pipeline } = options;
  let profile = options.profile;
  let started = false;
  let sequence = 0;
  let nextHeartbeatMs = options.startMs + HEARTBEAT_INTERVAL_MS;
  let nextFileMs = options.startMs;
  let current: FileUnderWay | null = null;
  let announced = false;
  let clockMs = options.startMs;

  const planFile = (startMs: number): FileUnderWay => {
    sequence += 1;
    const records = random.int(profile.minRecordsPerFile, profile.maxRecordsPerFile);
    const fullMs = (records / profile.recordsPerSecond / speed) * 1000;
    const failAfterMs = (random.exponential(profile.failuresPerMinute / 60) / speed) * 1000;
    const failed = failAfterMs < fullMs;
    const endMs = startMs + (failed ? failAfterMs : fullMs);
    const processed = failed ? Math.floor((failAfterMs / fullMs) * records) : records;
    return {
      file: `${pipeline}_${String(sequence).padStart(6, "0")}.csv`,
      startMs,
      records: processed,
      endMs,
      failed,
      errorType: failed ? random.pick(profile.errorTypes) : "",
    };
  };

  const dueMs = (): number => {
    if (!started) return clockMs;
    const fileEvent = current === null ? nextFileMs : announced ? current.endMs : current.startMs;
    return Math.min(nextHeartbeatMs, fileEvent);
  };

  return {
    peekMs: dueMs,
    next() {
      const atMs = dueMs();
      clockMs = atMs;
      if (!started) {
        started = true;
        return { atMs, event: "etl_started", version: "simulator" };
      }
      if (atMs === nextHeartbeatMs) {
        nextHeartbeatMs += HEARTBEAT_INTERVAL_MS;
        return { atMs, event: "heartbeat", state: current === null ? "idle" : "processing" };
      }
      if (current === null) {
        current = planFile(atMs);
        announced = false;
      }
      if (!announced) {
        announced = true;
        return { atMs, event: "file_started", file: current.file };
      }
      const done = current;
      current = null;
      nextFileMs = atMs + (profile.pauseBetweenFilesSeconds / speed) * 1000;
      const duration_ms = Math.round(done.endMs - done.startMs);
      if (!done.failed) return { atMs, event: "file_processed", file: done.file, records: done.records, duration_ms };
      return {
        atMs,
        event: "file_failed",
        file: done.file,
        error_type: done.errorType,
        records: done.records,
        duration_ms,
        message: MESSAGES[done.errorType] ?? `Simulated ${done.errorType}`,
      };
    },
    setProfile(next, atMs) {
      profile = next;
      if (current === null) nextFileMs = Math.max(atMs, Math.min(nextFileMs, atMs + (next.pauseBetweenFilesSeconds / speed) * 1000));
    },
    resumeAfter(pausedMs) {
      clockMs += pausedMs;
      nextHeartbeatMs += pausedMs;
      nextFileMs += pausedMs;
      if (current) {
        current.startMs += pausedMs;
        current.endMs += pausedMs;
      }
    },
  };
}
