/**
 * Runs the simulated pipelines' schedule against the log files: in real
 * time (`start`), or as fast as it can for a number of events (`generate`).
 * Every event written is also folded into an in-memory state, which the
 * simulator's own `/metrics` serves and which must equal what the exporter
 * derives from the files.
 *
 * The simulation owns the files and the timers, the crash's included:
 * `crash` strikes `crashAfterMs` after `start` when it is the starting
 * scenario (so the stack first sees the pipeline run), and after at most
 * 1 s when switched to at run time (the pipeline has been seen already, and
 * 1 s lets the answer reach the caller).
 *
 * @module
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createEventEmitter, type EventEmitter } from "../../lib/etl/emitter.ts";
import { foldEvent } from "../../lib/etl/reducer.ts";
import { createIngestState, type IngestState } from "../../lib/etl/state.ts";
import type { Profile, Scenario } from "../../lib/simulator/profile.ts";
import { createSchedule, type DueEvent, laneSeed } from "../../lib/simulator/schedule.ts";

/** A switch to `crash` at run time strikes this soon at the latest. */
export const SWITCHED_CRASH_MS = 1_000;

/** Options of {@linkcode createSimulation}. */
export interface SimulationOptions {
  logDir: string;
  pipelines: Record<string, Profile>;
  seed: number;
  speed: number;
  scenario?: Scenario;
  /** Wall clock; injectable for tests. */
  clock?: () => number;
  /** Called when the `crash` scenario strikes; the worker exits non-zero. */
  onCrash?: () => void;
  /** How long `crash` runs from `start` before it strikes (wall ms). Default 30 s. */
  crashAfterMs?: number;
}

/** A running (or ready) simulation. */
export interface Simulation {
  readonly state: IngestState;
  scenario(): Scenario;
  setScenario(scenario: Scenario): void;
  /** Emits events in real time until {@linkcode Simulation.stop}. */
  start(): void;
  /** Writes `count` events as fast as it can; timestamps are the times of writing. */
  generate(count: number): void;
  stop(): void;
}

interface LogFile {
  fd: number;
  buffer: string[];
  bufferedBytes: number;
}

const FLUSH_BYTES = 1 << 20;

/** Opens the log files (append mode) and prepares the schedule of the pipelines. */
export function createSimulation(options: SimulationOptions): Simulation {
  const clock = options.clock ?? Date.now;
  const crashAfterMs = options.crashAfterMs ?? 30_000;
  const state = createIngestState();
  const schedule = createSchedule(
    Object.entries(options.pipelines).map(([pipeline, profile], index) => ({ pipeline, profile, seed: laneSeed(options.seed, index) })),
    { startMs: clock(), speed: options.speed, scenario: options.scenario },
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let crashTimer: ReturnType<typeof setTimeout> | undefined;
  let batching = false;
  mkdirSync(options.logDir, { recursive: true });

  const files: LogFile[] = [];
  const emitters = new Map<string, EventEmitter>();
  for (const { pipeline } of schedule.lanes) {
    const file: LogFile = { fd: openSync(join(options.logDir, `${pipeline}.log`), "a"), buffer: [], bufferedBytes: 0 };
    files.push(file);
    emitters.set(pipeline, createEventEmitter({ pipeline, clock, write: (line) => append(file, line) }));
  }

  function append(file: LogFile, line: string): void {
    if (!batching) {
      writeSync(file.fd, line);
      return;
    }
    file.buffer.push(line);
    file.bufferedBytes += line.length;
    if (file.bufferedBytes >= FLUSH_BYTES) flush(file);
  }

  function flush(file: LogFile): void {
    if (file.buffer.length === 0) return;
    writeSync(file.fd, file.buffer.join(""));
    file.buffer = [];
    file.bufferedBytes = 0;
  }

  const write = ({ lane, event: { atMs: _atMs, ...body } }: DueEvent) => foldEvent(state, emitters.get(lane.pipeline)!.emit(body));

  const tick = () => {
    timer = undefined;
    if (schedule.scenario() === "stall") return;
    for (const due of schedule.takeDue(clock())) write(due);
    const waitMs = Math.min(Math.max(schedule.peekMs() - clock(), 1), 1000);
    timer = setTimeout(tick, waitMs);
  };

  const armCrash = (afterMs: number) => {
    clearTimeout(crashTimer);
    crashTimer = setTimeout(() => options.onCrash?.(), afterMs);
  };

  return {
    state,
    scenario: () => schedule.scenario(),
    setScenario(next) {
      schedule.setScenario(next, clock());
      if (next === "crash") armCrash(Math.min(SWITCHED_CRASH_MS, crashAfterMs));
      else clearTimeout(crashTimer);
      clearTimeout(timer);
      timer = undefined;
      if (next !== "stall") tick();
    },
    start() {
      if (schedule.scenario() === "crash") armCrash(crashAfterMs);
      tick();
    },
    generate(count) {
      batching = true;
      try {
        for (let i = 0; i < count; i++) write(schedule.takeNext());
      } finally {
        for (const file of files) flush(file);
        batching = false;
      }
    },
    stop() {
      clearTimeout(timer);
      clearTimeout(crashTimer);
      timer = undefined;
      for (const file of files) {
        flush(file);
        closeSync(file.fd);
      }
    },
  };
}
