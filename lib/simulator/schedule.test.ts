import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEngine } from "./engine.ts";
import { DEFAULT_PROFILE } from "./profile.ts";
import { createRandom } from "./random.ts";
import { createSchedule, laneSeed } from "./schedule.ts";

const specs = (seed: number) => ["orders", "customers", "billing"].map((pipeline, i) => ({ pipeline, profile: DEFAULT_PROFILE, seed: laneSeed(seed, i) }));

describe("createSchedule", () => {
  it("hands out each lane's own plan, earliest first, and every event due by the time asked", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 600_000 }), (seed, untilMs) => {
      const schedule = createSchedule(specs(seed), { startMs: 0, speed: 1 });
      const due = schedule.takeDue(untilMs);
      for (let i = 1; i < due.length; i++) expect(due[i]!.event.atMs).toBeGreaterThanOrEqual(due[i - 1]!.event.atMs);
      expect(schedule.peekMs()).toBeGreaterThan(untilMs);
      // Each lane's events are those its engine alone would plan.
      specs(seed).forEach(({ pipeline, seed: laneSeedValue }) => {
        const alone = createEngine({ pipeline, profile: DEFAULT_PROFILE, random: createRandom(laneSeedValue), startMs: 0, speed: 1 });
        const mine = due.filter((d) => d.lane.pipeline === pipeline).map((d) => d.event);
        expect(mine).toEqual(mine.map(() => alone.next()));
        expect(alone.peekMs()).toBeGreaterThan(untilMs);
      });
    }), { numRuns: 30 });
  });

  it("stops short of a time with before, and gives the same events in pieces as at once", () => {
    const whole = createSchedule(specs(3), { startMs: 0, speed: 1 }).takeDue(120_000).map((d) => d.event);
    const pieces = createSchedule(specs(3), { startMs: 0, speed: 1 });
    const first = pieces.takeDue(60_000, { before: true }).map((d) => d.event);
    expect(first.every((e) => e.atMs < 60_000)).toBe(true);
    expect([...first, ...pieces.takeDue(120_000).map((d) => d.event)]).toEqual(whole);
  });

  it("has nothing due while stalled, and shifts what was pending by the stall's length", () => {
    const schedule = createSchedule(specs(1), { startMs: 0, speed: 1 });
    schedule.takeDue(10_000);
    const next = schedule.peekMs();
    schedule.setScenario("stall", 10_000);
    expect(schedule.takeDue(1e9)).toEqual([]);
    schedule.setScenario("normal", 70_000);
    expect(schedule.peekMs()).toBe(next + 60_000);
    expect(schedule.takeDue(next + 60_000).length).toBeGreaterThan(0);
  });

  it("starts stalled under the stall scenario", () => {
    const schedule = createSchedule(specs(1), { startMs: 5_000, speed: 1, scenario: "stall" });
    expect(schedule.takeDue(1e9)).toEqual([]);
    schedule.setScenario("normal", 8_000);
    expect(schedule.takeDue(8_000)[0]?.event).toEqual({ atMs: 8_000, event: "etl_started", version: "simulator" });
  });
});
