import { describe, expect, it } from "vitest";
import type { EtlEvent } from "../etl/events.ts";
import { foldEvent } from "../etl/reducer.ts";
import { createIngestState } from "../etl/state.ts";
import type { CatalogEntry } from "./catalog.ts";
import { pipelineKind, pipelineStatus } from "./status.ts";

const T0 = Date.UTC(2026, 11, 1, 2);
const ev = (ms: number, fields: object) => ({ ts: new Date(T0 + ms).toISOString(), level: "info", pipeline: "p", ...fields }) as EtlEvent;
const entry: CatalogEntry = {
  kind: "batch", schedule: null, timezone: "UTC", cron: null, everyMs: 3_600_000, graceMs: 60_000, maxRunDurationMs: 600_000, minRecords: 10, labels: {},
};

function after(events: object[]) {
  const state = createIngestState();
  events.forEach((fields, i) => foldEvent(state, ev(i * 1000, fields)));
  return { pipeline: state.pipelines.p!, runs: state.runs.p! };
}

describe("pipelineStatus", () => {
  it("is failing between runs when the last run failed, idle once one succeeds", () => {
    const failed = after([{ event: "etl_started" }, { event: "etl_finished", status: "failed" }]);
    const s = pipelineStatus({ ...failed, entry, nowMs: T0 + 5000, sinceMs: T0 });
    expect(s).toMatchObject({ state: "failing", needsPerson: true, reasons: ["last run finished failed"] });
    const ok = after([{ event: "etl_started" }, { event: "etl_finished", status: "failed" }, { event: "etl_started" }, { event: "etl_finished", status: "success", records: 50 }]);
    expect(pipelineStatus({ ...ok, entry, nowMs: T0 + 5000, sinceMs: T0 })).toMatchObject({ state: "idle", needsPerson: false, empty: false });
  });

  it("flags a run in progress past max_run_duration as hung, and a small success as empty", () => {
    const open = after([{ event: "etl_started" }]);
    expect(pipelineStatus({ ...open, entry, nowMs: T0 + 600_000, sinceMs: T0, policy: { staleAfterMs: 1e9, maxConsecutiveFailures: 6 } }).hung).toBe(false);
    const hung = pipelineStatus({ ...open, entry, nowMs: T0 + 600_001, sinceMs: T0, policy: { staleAfterMs: 1e9, maxConsecutiveFailures: 6 } });
    expect(hung).toMatchObject({ state: "running", hung: true, needsPerson: true });
    const small = after([{ event: "etl_started" }, { event: "etl_finished", status: "success", records: 9 }]);
    expect(pipelineStatus({ ...small, entry, nowMs: T0 + 2000, sinceMs: T0 })).toMatchObject({ state: "idle", empty: true, needsPerson: false });
  });

  it("puts stale before late: a silent run past the deadline is stale", () => {
    const open = after([{ event: "etl_started" }]);
    expect(pipelineStatus({ ...open, entry, nowMs: T0 + 3_700_000, sinceMs: T0 }).state).toBe("stale");
    expect(pipelineStatus({ ...open, entry, nowMs: T0 + 3_660_000, sinceMs: T0, policy: { staleAfterMs: 1e9, maxConsecutiveFailures: 6 } }).state).toBe("running");
    expect(pipelineStatus({ ...open, entry, nowMs: T0 + 3_660_001, sinceMs: T0, policy: { staleAfterMs: 1e9, maxConsecutiveFailures: 6 } }).state).toBe("late");
  });

  it("tells a batch job from a service outside the catalog by its own finishes", () => {
    expect(pipelineKind(undefined, after([{ event: "etl_started" }, { event: "etl_started" }]).runs)).toBe("service");
    expect(pipelineKind(undefined, after([{ event: "etl_started" }, { event: "etl_finished", status: "cancelled" }]).runs)).toBe("batch");
    expect(pipelineKind({ ...entry, kind: "service" }, undefined)).toBe("service");
  });
});
