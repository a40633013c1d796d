import { describe, expect, it } from "vitest";
import { createEngine, HEARTBEAT_INTERVAL_MS, type PlannedEvent } from "./engine.ts";
import { applyScenario, DEFAULT_PROFILE, type Profile } from "./profile.ts";
import { createRandom } from "./random.ts";

function run(profile: Profile, hours: number, seed = 1, speed = 1): PlannedEvent[] {
  const engine = createEngine({ pipeline: "etl", profile, random: createRandom(seed), startMs: 0, speed });
  const events: PlannedEvent[] = [];
  while (engine.peekMs() <= (hours * 3_600_000) / speed) events.push(engine.next());
  return events;
}

describe("createEngine", () => {
  it("is reproducible from its seed and differs between seeds", () => {
    expect(run(DEFAULT_PROFILE, 0.5, 7)).toEqual(run(DEFAULT_PROFILE, 0.5, 7));
    expect(run(DEFAULT_PROFILE, 0.5, 7)).not.toEqual(run(DEFAULT_PROFILE, 0.5, 8));
  });

  it("starts with etl_started and keeps time in order", () => {
    const events = run(DEFAULT_PROFILE, 1);
    expect(events[0]).toEqual({ atMs: 0, event: "etl_started", version: "simulator" });
    for (let i = 1; i < events.length; i++) expect(events[i]!.atMs).toBeGreaterThanOrEqual(events[i - 1]!.atMs);
  });

  it("reproduces the reference profile: ~10 records/s, 50-500 records a file, ~1 failure a minute", () => {
    const events = run(DEFAULT_PROFILE, 10);
    const minutes = 600;
    const done = events.filter((e) => e.event === "file_processed");
    const failed = events.filter((e) => e.event === "file_failed");
    const records = [...done, ...failed].reduce((s, e) => s + e.records, 0);
    expect(records / (minutes * 60)).toBeGreaterThan(9);
    expect(records / (minutes * 60)).toBeLessThan(10.5);
    expect(failed.length / minutes).toBeGreaterThan(0.8);
    expect(failed.length / minutes).toBeLessThan(1.2);
    for (const e of done) {
      expect(e.records).toBeGreaterThanOrEqual(50);
      expect(e.records).toBeLessThanOrEqual(500);
      expect(e.duration_ms).toBeCloseTo((e.records / 10) * 1000, -1);
    }
    const types = new Set(failed.map((e) => e.error_type));
    expect(types.size).toBe(5);
  });

  it("beats every 5 s whatever happens", () => {
    const beats = run(DEFAULT_PROFILE, 1).filter((e) => e.event === "heartbeat");
    expect(beats.length).toBe(3_600_000 / HEARTBEAT_INTERVAL_MS);
    expect(beats.every((b, i) => b.atMs === (i + 1) * HEARTBEAT_INTERVAL_MS)).toBe(true);
  });

  it("compresses time with speed: 60 runs an hour's work in a minute", () => {
    const slow = run(DEFAULT_PROFILE, 1, 3, 1).filter((e) => e.event !== "heartbeat");
    const fast = run(DEFAULT_PROFILE, 1, 3, 60).filter((e) => e.event !== "heartbeat");
    expect(fast.length).toBe(slow.length);
    expect(fast.at(-1)!.atMs).toBeCloseTo(slow.at(-1)!.atMs / 60, -2);
  });

  it("slows files under the slow scenario and keeps them small under low-throughput", () => {
    const slow = run(applyScenario(DEFAULT_PROFILE, "slow"), 2).filter((e) => e.event === "file_processed");
    const median = slow.map((e) => e.duration_ms).sort((a, b) => a - b)[Math.floor(slow.length / 2)]!;
    expect(median).toBeGreaterThan(60_000);
    const low = run(applyScenario(DEFAULT_PROFILE, "low-throughput"), 1);
    const records = low.filter((e) => e.event === "file_processed").reduce((s, e) => s + e.records, 0);
    expect(records / 3600).toBeLessThan(1);
    expect(low.some((e) => e.event === "file_failed")).toBe(false);
  });

  it("fails most files under error-burst", () => {
    const events = run(applyScenario(DEFAULT_PROFILE, "error-burst"), 1);
    const failed = events.filter((e) => e.event === "file_failed").length;
    const done = events.filter((e) => e.event === "file_processed").length;
    expect(failed).toBeGreaterThan(done * 5);
  });

  it("shifts everything pending after a pause", () => {
    const engine = createEngine({ pipeline: "etl", profile: DEFAULT_PROFILE, random: createRandom(1), startMs: 0 });
    engine.next();
    const due = engine.peekMs();
    engine.resumeAfter(60_000);
    expect(engine.peekMs()).toBe(due + 60_000);
  });
});
