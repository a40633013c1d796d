import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCatalog } from "../catalog/catalog.ts";
import { withoutPipelines } from "../catalog/retire.ts";
import type { EtlEvent } from "../etl/events.ts";
import { foldEvent } from "../etl/reducer.ts";
import type { Snapshot } from "../etl/snapshot.ts";
import { createIngestState } from "../etl/state.ts";
import { gaugeFamily } from "./family.ts";
import { incrementalRenderer } from "./incremental_render.ts";
import type { ExpositionFormat } from "./negotiate.ts";
import { renderMetrics } from "./render.ts";

const T0 = Date.UTC(2026, 11, 1, 2);
const at = (ms: number) => new Date(T0 + ms).toISOString();

const catalogOf = (text: string) => {
  const result = parseCatalog(text);
  if (!result.ok) throw new Error(result.problems.join("\n"));
  return result.catalog;
};
const CATALOGS = [
  catalogOf(`pipelines:\n  nightly:\n    schedule: "0 2 * * *"\n    max_run_duration: 1h\n    min_records: 100\n    labels: { team: data }\n  never:\n    every: 10m\n`),
  catalogOf(`pipelines:\n  b:\n    every: 1m\n    grace: 30s\n`),
];

// A few names, so that folds land on pipelines already rendered.
const pipeline = fc.constantFrom("a", "b", "nightly", "c-1", "constructor");
const ms = fc.integer({ min: 0, max: 900_000 });
const base = (ms: number, pipeline: string) => ({ ts: at(ms), level: "info" as const, pipeline });
const event: fc.Arbitrary<EtlEvent> = fc.oneof(
  fc.record({ ms, pipeline, runId: fc.option(fc.constantFrom("r1", "r2")) }).map(({ ms, pipeline, runId }) => ({
    ...base(ms, pipeline), event: "etl_started" as const, ...(runId === null ? {} : { run_id: runId }),
  })),
  fc.record({ ms, pipeline }).map(({ ms, pipeline }) => ({ ...base(ms, pipeline), event: "heartbeat" as const })),
  fc.record({ ms, pipeline, records: fc.nat(1000), duration: fc.nat(700_000) }).map(({ ms, pipeline, records, duration }) => ({
    ...base(ms, pipeline), event: "file_processed" as const, file: "f.csv", records, duration_ms: duration,
  })),
  fc.record({ ms, pipeline, records: fc.nat(1000), type: fc.constantFrom("disk_full", "odd_type") }).map(({ ms, pipeline, records, type }) => ({
    ...base(ms, pipeline), level: "error" as const, event: "file_failed" as const, file: "f.csv", records, duration_ms: 5, error_type: type, message: "m",
  })),
  fc.record({ ms, pipeline, status: fc.constantFrom("success" as const, "failed" as const) }).map(({ ms, pipeline, status }) => ({
    ...base(ms, pipeline), event: "etl_finished" as const, status,
  })),
);

// What happens between two renders: lines folded, the clock moving on, the catalog or the retired set changing.
const step = fc.record({
  events: fc.array(event, { maxLength: 4 }),
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 400_000 })),
  catalog: fc.option(fc.constantFrom(0, 1), { freq: 4 }),
  retired: fc.option(fc.subarray(["a", "b", "nightly"]), { freq: 4 }),
  loadedAt: fc.boolean(),
});

describe("incrementalRenderer", () => {
  it("writes what a full render writes, for random folds, times, catalogs and retirements, in both formats", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), fc.constantFrom<ExpositionFormat>("text", "openmetrics"), fc.boolean(), (steps, format, exporter) => {
        const state = createIngestState();
        const render = incrementalRenderer(format);
        let nowMs = T0 + 100_000;
        let catalogIndex: number | null = null;
        let retired: string[] = [];
        const process = [gaugeFamily("process_x", "X.", [{ labels: {}, value: 1 }])];
        for (const s of steps) {
          for (const e of s.events) foldEvent(state, e);
          state.lines.parsed += s.events.length;
          nowMs += s.advanceMs;
          if (s.catalog !== null) catalogIndex = s.catalog;
          if (s.retired !== null) retired = s.retired;
          const catalog = catalogIndex === null ? undefined : CATALOGS[catalogIndex]!;
          const snapshot: Snapshot = {
            state: withoutPipelines(state, retired),
            nowMs,
            ready: true,
            ...(catalog ? { catalog, ...(s.loadedAt ? { catalogLoadedAtMs: T0 } : {}) } : {}),
            ...(exporter ? { exporter: { checkpointSavedAtMs: null, rotations: 0, truncations: 0, filesTailed: 1, pipelinesRetired: retired.length } } : {}),
          };
          expect(render(snapshot, process)).toBe(renderMetrics(snapshot, format, process).body);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("writes again a pipeline whose state changed in place, and the clock's families of the others", () => {
    const state = createIngestState();
    for (const name of ["a", "b"]) foldEvent(state, { ...base(0, name), event: "etl_started" });
    const render = incrementalRenderer("text");
    const first = render({ state, nowMs: T0 + 10_000, ready: true });
    expect(first).toContain('etl_files_total{pipeline="b"} 0\n');
    expect(first).toContain('etl_uptime_seconds{pipeline="a"} 10\n');
    foldEvent(state, { ...base(5_000, "b"), event: "file_processed", file: "f", records: 3, duration_ms: 1000 });
    const second = render({ state, nowMs: T0 + 12_000, ready: true });
    expect(second).toContain('etl_files_total{pipeline="b"} 1\n');
    expect(second).toContain('etl_files_total{pipeline="a"} 0\n');
    expect(second).toContain('etl_uptime_seconds{pipeline="a"} 12\n');
    expect(second).toBe(renderMetrics({ state, nowMs: T0 + 12_000, ready: true }, "text").body);
  });
});
