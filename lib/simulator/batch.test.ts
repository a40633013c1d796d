import { describe, expect, it } from "vitest";
import type { EtlEvent } from "../etl/events.ts";
import { createEventEmitter } from "../etl/emitter.ts";
import { foldEvent } from "../etl/reducer.ts";
import { createIngestState } from "../etl/state.ts";
import { BatchPipelinesSchema, type BatchPlannedEvent, createBatchEngine, DEFAULT_BATCH_PROFILE } from "./batch.ts";
import { createRandom } from "./random.ts";

const profile = { everyMs: 600_000, filesPerRun: 3, minRecordsPerFile: 100, maxRecordsPerFile: 100, fileMs: 60_000 };

/** Every event due up to `untilMs`. */
function drain(engine: ReturnType<typeof createBatchEngine>, untilMs: number): BatchPlannedEvent[] {
  const out: BatchPlannedEvent[] = [];
  while (engine.peekMs() <= untilMs) out.push(engine.next());
  return out;
}

describe("createBatchEngine", () => {
  it("runs on schedule: start, files and heartbeats, finish, then silence until the next run", () => {
    const engine = createBatchEngine({ profile, random: createRandom(1), startMs: 0 });
    const first = drain(engine, 599_999);
    expect(first[0]).toEqual({ atMs: 0, event: "etl_started" });
    expect(first.at(-1)).toEqual({ atMs: 180_000, event: "etl_finished", status: "success", records: 300 });
    expect(first.filter((e) => e.event === "file_processed")).toHaveLength(3);
    // Heartbeats every 5 s while running, none after the finish.
    const beats = first.filter((e) => e.event === "heartbeat").map((e) => e.atMs);
    expect(beats[0]).toBe(5_000);
    expect(beats.at(-1)).toBeLessThanOrEqual(180_000);
    expect(beats.length).toBe(35); // 5 … 175 s: at 180 s the finish comes first
    expect(engine.peekMs()).toBe(600_000);
  });

  it("compresses time with the speed, heartbeats excepted", () => {
    const engine = createBatchEngine({ profile, random: createRandom(1), startMs: 0, speed: 60 });
    const run = drain(engine, 9_999);
    expect(run.at(-1)).toMatchObject({ atMs: 3_000, event: "etl_finished" });
    expect(run.filter((e) => e.event === "heartbeat")).toHaveLength(0);
    // Files report the time they took at this speed (60 s / 60), as their log times say.
    const files = run.filter((e) => e.event === "file_processed") as { atMs: number; duration_ms?: number }[];
    expect(files.map((e) => e.duration_ms)).toEqual([1_000, 1_000, 1_000]);
    expect(files.map((e) => e.atMs)).toEqual([1_000, 2_000, 3_000]);
    expect(engine.peekMs()).toBe(10_000);
  });

  it("skips runs while late and resumes on the schedule, never making them up", () => {
    const engine = createBatchEngine({ profile, random: createRandom(1), startMs: 0 });
    drain(engine, 599_999);
    engine.setScenario("late", 300_000);
    expect(engine.peekMs()).toBe(Number.POSITIVE_INFINITY);
    engine.setScenario("normal", 1_900_000);
    expect(engine.peekMs()).toBe(2_400_000);
  });

  it("hangs a run (heartbeats only), empties runs, and drops their volume to a fifth", () => {
    const hung = createBatchEngine({ profile, random: createRandom(1), startMs: 0 });
    hung.setScenario("hung", 0);
    const events = drain(hung, 3_600_000);
    expect(events[0]).toEqual({ atMs: 0, event: "etl_started" });
    expect(new Set(events.slice(1).map((e) => e.event))).toEqual(new Set(["heartbeat"]));
    hung.setScenario("normal", 3_600_000);
    expect(hung.peekMs()).toBe(3_600_000);

    const empty = createBatchEngine({ profile, random: createRandom(1), startMs: 0 });
    empty.setScenario("empty", 0);
    expect(drain(empty, 1000).filter((e) => e.event !== "heartbeat")).toEqual([
      { atMs: 0, event: "etl_started" },
      { atMs: 0, event: "etl_finished", status: "success", records: 0 },
    ]);

    const drop = createBatchEngine({ profile, random: createRandom(1), startMs: 0 });
    drop.setScenario("volume-drop", 0);
    expect(drain(drop, 599_999).at(-1)).toMatchObject({ event: "etl_finished", records: 60 });
  });

  it("writes runs the exporter reads as runs, between runs once finished", () => {
    const engine = createBatchEngine({ profile: DEFAULT_BATCH_PROFILE, random: createRandom(3), startMs: 0, speed: 10 });
    let clockMs = 0;
    const lines: string[] = [];
    const emitter = createEventEmitter({ pipeline: "nightly", clock: () => clockMs, write: (l) => lines.push(l) });
    const state = createIngestState();
    for (const planned of drain(engine, 95_000)) {
      clockMs = planned.atMs;
      const { atMs: _atMs, ...body } = planned;
      foldEvent(state, emitter.emit(body) as EtlEvent);
    }
    const runs = state.runs.nightly!;
    expect(runs.statusCounts.success).toBe(3); // runs at 0, 30, 60 and 90 s, each 6 s long: the last is in progress
    expect(runs.open).not.toBeNull();
    const finished = lines.map((l) => JSON.parse(l)).filter((e) => e.event === "etl_finished");
    expect(finished.reduce((sum, e) => sum + e.records, 0) + runs.open!.records).toBe(state.pipelines.nightly!.recordsTotal);
    expect(runs.last!.records).toBe(finished.at(-1).records);
  });
});

describe("BatchPipelinesSchema", () => {
  it("reads names with optional intervals", () => {
    expect(BatchPipelinesSchema.parse("nightly:1d, hourly")).toEqual({
      nightly: { ...DEFAULT_BATCH_PROFILE, everyMs: 86_400_000 },
      hourly: { ...DEFAULT_BATCH_PROFILE },
    });
    expect(BatchPipelinesSchema.safeParse("Bad:1h").error?.issues[0]?.message).toMatch(/^"Bad": pipeline must match/);
    expect(BatchPipelinesSchema.safeParse("nightly:soon").error?.issues[0]?.message).toBe('nightly: "soon" is not an interval like 5m or 1h (at least 1s)');
  });
});
