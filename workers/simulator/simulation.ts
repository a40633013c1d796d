/**
 * Runs the engines of the simulated pipelines against the log files: in real
 * time (`start`), or as fast as it can for a number of events (`generate`).
 * Every event written is also folded into an in-memory state, which the
 * simulator's own `/metrics` serves and which must equal what the exporter
 * derives from the files.
 *
 * @example
 * ```ts
 * import { createSimulation } from "./simulation.ts";
 * const sim = createSimulation({ logDir: "data/logs", pipelines: { etl: DEFAULT_PROFILE }, seed: 1, speed: 1 });
 * sim.start();
 * // …
 * sim.stop();
 * ```
 * @module
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createEventEmitter, type EventEmitter } from "../../lib/etl/emitter.ts";
import type { EtlEvent } from "../../lib/etl/events.ts";
import { foldEvent } from "../../lib/etl/reducer.ts";
import { createEngine, type Engine, type PlannedEvent } from "../../lib/simulator/engine.ts";
import { emitPlanned } from "../../lib/simulator/emit_planned.ts";
import { applyScenario, type Profile, type Scenario } from "../../lib/simulator/profile.ts";
import { createRandom } from "../../lib/simulator/random.ts";
import { createIngestState, type IngestState } from "../../lib/etl/state.ts";

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
  /** How long `crash` runs before it strikes (wall ms). */
  crashAfterMs?: number;
}

interface Lane {
  name: string;
  profile: Profile;
  engine: Engine;
  emitter: EventEmitter;
  fd: number;
  buffer: string[];
  bufferedBytes: number;
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

const FLUSH_BYTES = 1 << 20;

/** Opens the log files (append mode) and prepares one engine per pipeline. */
export function createSimulation(options: SimulationOptions): Simulation {
  const clock = options.clock ?? Date.now;
  const state = createIngestState();
  let scenario: Scenario = options.scenario ?? "normal";
  let stalledAtMs: number | null = scenario === "stall" ? clock() : null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let crashTimer: ReturnType<typeof setTimeout> | undefined;
  let batching = false;
  mkdirSync(options.logDir, { recursive: true });

  const names = Object.keys(options.pipelines);
  const lanes: Lane[] = names.map((name, index) => {
    const profile = options.pipelines[name]!;
    const fd = openSync(join(options.logDir, `${name}.log`), "a");
    const lane: Lane = {
      name,
      profile,
      fd,
      buffer: [],
      bufferedBytes: 0,
      engine: createEngine({
        pipeline: name,
        profile: applyScenario(profile, scenario),
        random: createRandom((options.seed + Math.imul(index, 0x9e3779b1)) >>> 0),
        startMs: clock(),
        speed: options.speed,
      }),
      emitter: undefined as unknown as EventEmitter,
    };
    lane.emitter = createEventEmitter({
      pipeline: name,
      clock,
      write: (line) => {
        if (!batching) {
          writeSync(fd, line);
          return;
        }
        lane.buffer.push(line);
        lane.bufferedBytes += line.length;
        if (lane.bufferedBytes >= FLUSH_BYTES) flush(lane);
      },
    });
    return lane;
  });

  const flush = (lane: Lane) => {
    if (lane.buffer.length === 0) return;
    writeSync(lane.fd, lane.buffer.join(""));
    lane.buffer = [];
    lane.bufferedBytes = 0;
  };

  const emit = (lane: Lane, planned: PlannedEvent): EtlEvent => emitPlanned(lane.emitter, planned);

  const earliestLane = (): Lane => {
    let best = lanes[0]!;
    for (const lane of lanes) if (lane.engine.peekMs() < best.engine.peekMs()) best = lane;
    return best;
  };

  const tick = () => {
    timer = undefined;
    if (scenario === "stall") return;
    const now = clock();
    for (let lane = earliestLane(); lane.engine.peekMs() <= now; lane = earliestLane()) {
      foldEvent(state, emit(lane, lane.engine.next()));
    }
    const waitMs = Math.min(Math.max(earliestLane().engine.peekMs() - clock(), 1), 1000);
    timer = setTimeout(tick, waitMs);
  };

  const armCrash = () => {
    clearTimeout(crashTimer);
    crashTimer = setTimeout(() => options.onCrash?.(), options.crashAfterMs ?? 30_000);
  };

  return {
    state,
    scenario: () => scenario,
    setScenario(next) {
      const now = clock();
      if (scenario === "stall" && next !== "stall" && stalledAtMs !== null) {
        for (const lane of lanes) lane.engine.resumeAfter(now - stalledAtMs);
        stalledAtMs = null;
      }
      if (next === "stall") stalledAtMs = now;
      if (next === "crash") armCrash();
      else clearTimeout(crashTimer);
      scenario = next;
      for (const lane of lanes) lane.engine.setProfile(applyScenario(lane.profile, next), now);
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (next !== "stall") tick();
    },
    start() {
      if (scenario === "crash") armCrash();
      tick();
    },
    generate(count) {
      batching = true;
      try {
        for (let i = 0; i < count; i++) {
          const lane = earliestLane();
          foldEvent(state, emit(lane, lane.engine.next()));
        }
      } finally {
        for (const lane of lanes) flush(lane);
        batching = false;
      }
    },
    stop() {
      clearTimeout(timer);
      clearTimeout(crashTimer);
      timer = undefined;
      for (const lane of lanes) {
        flush(lane);
        closeSync(lane.fd);
      }
    },
  };
}
