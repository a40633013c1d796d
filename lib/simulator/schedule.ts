/**
 * The pipelines of one simulation, stepped together: one engine per
 * pipeline (a lane), taken earliest event first, with the scenario applied
 * to every lane. Pure: the caller says what time it is and writes what it
 * is handed; the worker does that with files and timers, the alert tests
 * with a scrape clock.
 *
 * A stall pauses the schedule: nothing is due while it lasts, and when it
 * ends every lane's pending times shift by its length, as a process that
 * hung would pick up where it stopped.
 *
 * @module
 */
import { createEngine, type Engine, type PlannedEvent } from "./engine.ts";
import { applyScenario, type Profile, type Scenario } from "./profile.ts";
import { createRandom } from "./random.ts";

/** One pipeline of the schedule: its name, its profile before any scenario, its engine. */
export interface Lane {
  readonly pipeline: string;
  readonly profile: Profile;
  readonly engine: Engine;
}

/** A pipeline to simulate, with the seed of its own random generator. */
export interface LaneSpec {
  pipeline: string;
  profile: Profile;
  seed: number;
}

/** Options of {@linkcode createSchedule}. */
export interface ScheduleOptions {
  startMs: number;
  /** Time compression: 60 runs a profile minute in a second. */
  speed: number;
  /** The scenario from `startMs` on. Default `normal`. */
  scenario?: Scenario;
}

/** An event due, and the lane it belongs to. */
export interface DueEvent {
  lane: Lane;
  event: PlannedEvent;
}

/** The lanes, stepped together. */
export interface Schedule {
  readonly lanes: readonly Lane[];
  scenario(): Scenario;
  /** Switches every lane to `scenario` at `atMs` (a stall pauses, its end resumes). */
  setScenario(scenario: Scenario, atMs: number): void;
  /** When the next event is due (Infinity with no lane); a stall does not change it. */
  peekMs(): number;
  /** Takes every event due by `untilMs` (or before it, with `before`), earliest first; none while stalled. */
  takeDue(untilMs: number, options?: { before?: boolean }): DueEvent[];
  /** Takes the next event whatever the time, for writing as fast as possible. */
  takeNext(): DueEvent;
}

/**
 * A seed per lane from the run's one seed, so that pipelines with the same
 * profile do not run in step (0x9e3779b1: the golden ratio, Knuth's multiplier).
 */
export function laneSeed(seed: number, index: number): number {
  return (seed + Math.imul(index, 0x9e3779b1)) >>> 0;
}

/** Makes the lanes of `specs`, each engine starting at `startMs` under the scenario. */
export function createSchedule(specs: readonly LaneSpec[], options: ScheduleOptions): Schedule {
  let scenario: Scenario = options.scenario ?? "normal";
  let stalledAtMs: number | null = scenario === "stall" ? options.startMs : null;
  const lanes: Lane[] = specs.map((spec) => ({
    pipeline: spec.pipeline,
    profile: spec.profile,
    engine: createEngine({
      pipeline: spec.pipeline,
      profile: applyScenario(spec.profile, scenario),
      random: createRandom(spec.seed),
      startMs: options.startMs,
      speed: options.speed,
    }),
  }));

  const earliest = (): Lane | undefined => {
    let best = lanes[0];
    for (const lane of lanes) if (lane.engine.peekMs() < best!.engine.peekMs()) best = lane;
    return best;
  };

  return {
    lanes,
    scenario: () => scenario,
    setScenario(next, atMs) {
      if (scenario === "stall" && next !== "stall" && stalledAtMs !== null) {
        for (const lane of lanes) lane.engine.resumeAfter(atMs - stalledAtMs);
        stalledAtMs = null;
      }
      if (next === "stall") stalledAtMs = atMs;
      scenario = next;
      for (const lane of lanes) lane.engine.setProfile(applyScenario(lane.profile, next), atMs);
    },
    peekMs: () => earliest()?.engine.peekMs() ?? Infinity,
    takeDue(untilMs, { before = false } = {}) {
      const due: DueEvent[] = [];
      if (scenario === "stall") return due;
      for (let lane = earliest(); lane !== undefined; lane = earliest()) {
        const atMs = lane.engine.peekMs();
        if (before ? atMs >= untilMs : atMs > untilMs) break;
        due.push({ lane, event: lane.engine.next() });
      }
      return due;
    },
    takeNext() {
      const lane = earliest();
      if (lane === undefined) throw new RangeError("a schedule without pipelines has no next event");
      return { lane, event: lane.engine.next() };
    },
  };
}
