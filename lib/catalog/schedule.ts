/**
 * When a pipeline's next successful run is due, from its catalog entry and
 * its last success. Pure: the clock is a parameter, never read.
 *
 * The deadline is the first scheduled time after the last successful run
 * finished (for `every`, that finish plus the interval), plus the grace. A
 * pipeline that never succeeded counts from `sinceMs` (when it was first
 * seen, or when the catalog was loaded).
 *
 * @example
 * ```ts
 * import { nextDeadline } from "./schedule.ts";
 * const entry = parsedCatalog.pipelines.nightly!; // schedule "0 2 * * *"
 * nextDeadline(entry, Date.UTC(2026, 10, 23, 2, 30))?.deadlineMs; // Date.UTC(2026, 10, 24, 2, 15)
 * ```
 * @module
 */
import { formatDuration } from "../alerts/duration.ts";
import { type CatalogEntry, DEFAULT_GRACE_MS } from "./entry.ts";

/** The next due run and what it allows. Times are epoch ms, durations ms. */
export interface Deadline {
  /** The scheduled time of the run that is due. */
  dueMs: number;
  /** Time between that run and the one after it (the schedule's interval there). */
  intervalMs: number;
  graceMs: number;
  /** `dueMs + graceMs`: a success must have arrived by then. */
  deadlineMs: number;
}

/**
 * The deadline of the first run scheduled strictly after `afterMs`;
 * `null` without a schedule, or when the cron expression never fires again.
 */
export function nextDeadline(entry: CatalogEntry, afterMs: number): Deadline | null {
  let dueMs: number;
  let intervalMs: number;
  if (entry.cron !== null) {
    const due = entry.cron.nextAfter(afterMs);
    const after = due === null ? null : entry.cron.nextAfter(due);
    if (due === null || after === null) return null;
    dueMs = due;
    intervalMs = after - dueMs;
  } else if (entry.everyMs !== null) {
    dueMs = afterMs + entry.everyMs;
    intervalMs = entry.everyMs;
  } else {
    return null;
  }
  const graceMs = entry.graceMs ?? Math.min(DEFAULT_GRACE_MS, intervalMs / 10);
  return { dueMs, intervalMs, graceMs, deadlineMs: dueMs + graceMs };
}

/**
 * How an entry's schedule reads on the info metric: the cron expression
 * with its time zone when not UTC, `every 1h`, or `""` without one.
 *
 * @example
 * ```ts
 * describeSchedule({ ...entry, schedule: null, everyMs: 3_600_000 }); // "every 1h"
 * ```
 */
export function describeSchedule(entry: CatalogEntry): string {
  if (entry.schedule !== null) return entry.timezone === "UTC" ? entry.schedule : `${entry.schedule} (${entry.timezone})`;
  if (entry.everyMs !== null) return `every ${formatDuration(entry.everyMs / 1000)}`;
  return "";
}
