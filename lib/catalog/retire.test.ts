import { describe, expect, it } from "vitest";
import type { EtlEvent } from "../etl/events.ts";
import { foldEvent } from "../etl/reducer.ts";
import { createIngestState } from "../etl/state.ts";
import { parseCatalog } from "./catalog.ts";
import { createRetirementCounter, retiredPipelines, withoutPipelines } from "./retire.ts";

const DAY = 86_400_000;
const ev = (pipeline: string, ms: number) => ({ ts: new Date(ms).toISOString(), level: "info", event: "file_processed", pipeline, file: "f", records: 5, duration_ms: 1 }) as EtlEvent;

describe("retiring pipelines", () => {
  const state = createIngestState();
  foldEvent(state, ev("old_job", 0));
  foldEvent(state, ev("monthly", 0));
  foldEvent(state, ev("fresh", 8 * DAY));
  const parsed = parseCatalog("pipelines:\n  monthly:\n    schedule: '0 3 1 * *'\n");
  const catalog = parsed.ok ? parsed.catalog : undefined;

  it("retires what is silent longer than the limit and not in the catalog", () => {
    expect(retiredPipelines(state, catalog, 7 * DAY, 7 * DAY)).toEqual([]);
    expect(retiredPipelines(state, catalog, 7 * DAY + 1, 7 * DAY)).toEqual(["old_job"]);
    expect(retiredPipelines(state, undefined, 7 * DAY + 1, 7 * DAY)).toEqual(["monthly", "old_job"]);
  });

  it("leaves them out of a view only: logging again brings their counters back as they were", () => {
    const view = withoutPipelines(state, ["old_job"]);
    expect(Object.keys(view.pipelines).sort()).toEqual(["fresh", "monthly"]);
    expect(state.pipelines.old_job!.recordsTotal).toBe(5);
    foldEvent(state, ev("old_job", 9 * DAY));
    expect(retiredPipelines(state, catalog, 9 * DAY, 7 * DAY)).toEqual([]);
    expect(state.pipelines.old_job!.recordsTotal).toBe(10);
  });

  it("counts each retirement once", () => {
    const counter = createRetirementCounter();
    expect(counter.observe(["a"])).toBe(1);
    expect(counter.observe(["a", "b"])).toBe(2);
    expect(counter.observe(["b"])).toBe(2); // a came back
    expect(counter.observe(["a", "b"])).toBe(3); // and was retired again
  });
});
