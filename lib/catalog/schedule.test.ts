import { describe, expect, it } from "vitest";
import { type CatalogEntry, parseCatalog } from "./catalog.ts";
import { describeSchedule, nextDeadline } from "./schedule.ts";

/** An entry with `over`'s fields; a schedule is parsed as the catalog parses it. */
const entry = (over: Partial<CatalogEntry>): CatalogEntry => {
  const base: CatalogEntry = {
    kind: "batch", schedule: null, timezone: "UTC", cron: null, everyMs: null, graceMs: null, maxRunDurationMs: null, minRecords: null, labels: {}, ...over,
  };
  if (base.schedule === null) return base;
  const parsed = parseCatalog(JSON.stringify({ pipelines: { p: { schedule: base.schedule, timezone: base.timezone } } }));
  if (!parsed.ok) throw new Error(parsed.problems.join());
  return { ...base, cron: parsed.catalog.pipelines.p!.cron };
};

describe("nextDeadline", () => {
  it("is the first cron time after the last success, plus the default grace of 15 min", () => {
    const nightly = entry({ schedule: "0 2 * * *" });
    expect(nextDeadline(nightly, Date.UTC(2026, 10, 23, 2, 30))).toEqual({
      dueMs: Date.UTC(2026, 10, 24, 2), intervalMs: 86_400_000, graceMs: 900_000, deadlineMs: Date.UTC(2026, 10, 24, 2, 15),
    });
    // Strictly after: a success exactly at 02:00 is due again the next day.
    expect(nextDeadline(nightly, Date.UTC(2026, 10, 23, 2))!.dueMs).toBe(Date.UTC(2026, 10, 24, 2));
  });

  it("reads the cron expression in its time zone, summer time included", () => {
    const paris = entry({ schedule: "0 2 * * *", timezone: "Europe/Paris" });
    expect(nextDeadline(paris, Date.UTC(2026, 6, 1, 12))!.dueMs).toBe(Date.UTC(2026, 6, 2, 0));
    expect(nextDeadline(paris, Date.UTC(2026, 11, 1, 12))!.dueMs).toBe(Date.UTC(2026, 11, 2, 1));
  });

  it("takes a tenth of a short interval as the grace, and an explicit grace as given", () => {
    expect(nextDeadline(entry({ everyMs: 3_600_000 }), 0)).toEqual({ dueMs: 3_600_000, intervalMs: 3_600_000, graceMs: 360_000, deadlineMs: 3_960_000 });
    expect(nextDeadline(entry({ schedule: "*/5 * * * *" }), 0)!.graceMs).toBe(30_000);
    expect(nextDeadline(entry({ everyMs: 86_400_000, graceMs: 7_200_000 }), 0)!.deadlineMs).toBe(93_600_000);
  });

  it("is null without a schedule", () => {
    expect(nextDeadline(entry({ kind: "service" }), 0)).toBeNull();
  });

  it("describes the schedule for the info metric", () => {
    expect(describeSchedule(entry({ schedule: "0 2 * * *" }))).toBe("0 2 * * *");
    expect(describeSchedule(entry({ schedule: "0 2 * * *", timezone: "Europe/Paris" }))).toBe("0 2 * * * (Europe/Paris)");
    expect(describeSchedule(entry({ everyMs: 5_400_000 }))).toBe("every 1h30m");
    expect(describeSchedule(entry({}))).toBe("");
  });
});
