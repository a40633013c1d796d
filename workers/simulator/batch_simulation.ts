/**
 * Runs the simulated batch jobs (`--batch-pipelines`) beside the always-on
 * ones, in the same process: each run starts, writes its files and its
 * `etl_finished`, and the process then waits, silent, for the job's next
 * run. Every event is folded into the simulation's state, which the
 * simulator's `/metrics` serves.
 *
 * @example
 * ```ts
 * import { createBatchSimulation } from "./batch_simulation.ts";
 * const batch = createBatchSimulation({ logDir, pipelines: { nightly: DEFAULT_BATCH_PROFILE }, seed: 1, speed: 60, state });
 * batch.start();
 * ```
 * @module
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createEventEmitter, type EventEmitter } from "../../lib/etl/emitter.ts";
import { foldEvent } from "../../lib/etl/reducer.ts";
import type { IngestState } from "../../lib/etl/state.ts";
import { type BatchEngine, type BatchProfile, createBatchEngine } from "../../lib/simulator/batch.ts";
import { createRandom } from "../../lib/simulator/random.ts";

/** Options of {@linkcode createBatchSimulation}. */
export interface BatchSimulationOptions {
  logDir: string;
  pipelines: Record<string, BatchProfile>;
  seed: number;
  speed: number;
  /** Where events are folded (the simulation's own state). */
  state: IngestState;
  scenario?: string;
  clock?: () => number;
}

/** The running batch jobs. */
export interface BatchSimulation {
  start(): void;
  setScenario(scenario: string): void;
  stop(): void;
}

interface BatchLane {
  name: string;
  engine: BatchEngine;
  emitter: EventEmitter;
  fd: number;
  runs: number;
}

/** Opens the jobs' logs (append mode) and prepares their schedules. */
export function createBatchSimulation(options: BatchSimulationOptions): BatchSimulation {
  const clock = options.clock ?? Date.now;
  let scenario = options.scenario ?? "normal";
  let stalledAtMs: number | null = scenario === "stall" ? clock() : null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  mkdirSync(options.logDir, { recursive: true });
  const lanes: BatchLane[] = Object.entries(options.pipelines).map(([name, profile], index) => {
    const fd = openSync(join(options.logDir, `${name}.log`), "a");
    const engine = createBatchEngine({
      profile,
      random: createRandom((options.seed + 0x5bd1e995 + Math.imul(index, 0x9e3779b1)) >>> 0),
      startMs: clock(),
      speed: options.speed,
    });
    engine.setScenario(scenario, clock());
    const lane: BatchLane = { name, engine, fd, runs: 0, emitter: undefined as unknown as EventEmitter };
    lane.emitter = emitterFor(lane);
    return lane;
  });

  function emitterFor(lane: BatchLane): EventEmitter {
    // One run id per run, as a scheduler would give.
    return createEventEmitter({ pipeline: lane.name, runId: `${lane.name}-${lane.runs}`, clock, write: (line) => writeSync(lane.fd, line) });
  }

  const tick = () => {
    timer = undefined;
    if (scenario === "stall") return;
    const now = clock();
    let soonest = Number.POSITIVE_INFINITY;
    for (const lane of lanes) {
      while (lane.engine.peekMs() <= now) {
        const planned = lane.engine.next();
        if (planned.event === "etl_started") {
          lane.runs += 1;
          lane.emitter = emitterFor(lane);
        }
        const { atMs: _atMs, ...body } = planned;
        foldEvent(options.state, lane.emitter.emit(body));
      }
      soonest = Math.min(soonest, lane.engine.peekMs());
    }
    timer = setTimeout(tick, Math.min(Math.max(soonest - clock(), 1), 1000));
  };

  return {
    start: tick,
    setScenario(next) {
      const now = clock();
      if (scenario === "stall" && next !== "stall" && stalledAtMs !== null) {
        for (const lane of lanes) lane.engine.resumeAfter(now - stalledAtMs);
        stalledAtMs = null;
      }
      if (next === "stall") stalledAtMs = now;
      scenario = next;
      for (const lane of lanes) lane.engine.setScenario(next, now);
      clearTimeout(timer);
      timer = undefined;
      if (next !== "stall") tick();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      for (const lane of lanes) closeSync(lane.fd);
    },
  };
}
