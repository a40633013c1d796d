/**
 * What the catalog says of one pipeline, as the rest of the code reads it:
 * plain types and a lookup, with no parser behind them (the YAML and cron
 * parsing is in `catalog.ts`, which only the exporter's start-up loads).
 *
 * @example
 * ```ts
 * import { catalogEntry } from "./entry.ts";
 * catalogEntry(catalog, "nightly")?.kind; // "batch"
 * ```
 * @module
 */

/** What kind of pipeline: runs that finish, or a process that is always on. */
export type PipelineKind = "batch" | "service";

/** A parsed cron expression, read in its time zone. */
export interface CronSchedule {
  /** The first time it names strictly after `afterMs` (epoch ms), `null` if none. */
  nextAfter(afterMs: number): number | null;
}

/** One pipeline's entry, with defaults applied. Durations are milliseconds. */
export interface CatalogEntry {
  kind: PipelineKind;
  /** A 5-field cron expression, read in `timezone`; `null` when the pipeline has `every` or no schedule. */
  schedule: string | null;
  timezone: string;
  /** `schedule`, parsed; `null` with it. */
  cron: CronSchedule | null;
  /** Runs due every this many ms after the last successful one; `null` with a cron schedule or none. */
  everyMs: number | null;
  /** How late a successful run may be; `null` for the default (15 min, or a tenth of the interval if shorter). */
  graceMs: number | null;
  maxRunDurationMs: number | null;
  minRecords: number | null;
  labels: Record<string, string>;
}

/** The whole catalog by pipeline name. */
export interface Catalog {
  pipelines: Record<string, CatalogEntry>;
}

/** The default grace: 15 minutes, or a tenth of the interval when that is shorter. */
export const DEFAULT_GRACE_MS = 15 * 60_000;

/**
 * The catalog's entry for `name`, `undefined` when it has none (own keys
 * only: a pipeline may be called "constructor").
 *
 * @example
 * ```ts
 * catalogEntry({ pipelines: {} }, "nightly"); // undefined
 * ```
 */
export function catalogEntry(catalog: Catalog | undefined, name: string): CatalogEntry | undefined {
  return catalog !== undefined && Object.hasOwn(catalog.pipelines, name) ? catalog.pipelines[name] : undefined;
}
