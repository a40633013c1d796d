/**
 * The pipeline catalog: what each pipeline is expected to do (when it runs,
 * how late and how long it may be, how many records a run should have),
 * read from the file given with `--pipelines-file` (YAML; JSON is YAML too).
 *
 * Parsing is pure: the exporter reads the file and hands its text here. A
 * bad file gives one message per problem, naming the pipeline and the field.
 *
 * @example
 * ```ts
 * import { parseCatalog } from "./catalog.ts";
 * const result = parseCatalog("pipelines:\n  nightly:\n    schedule: '0 2 * * *'\n");
 * if (result.ok) result.catalog.pipelines.nightly?.kind; // "batch"
 * ```
 * @module
 */
import { Cron } from "croner";
import { parse } from "yaml";
import * as z from "zod";
import { parseDuration } from "../alerts/duration.ts";
import { PipelineNameSchema } from "../etl/events.ts";
import type { Catalog, CatalogEntry, CronSchedule } from "./entry.ts";

export { type Catalog, type CatalogEntry, catalogEntry, type CronSchedule, DEFAULT_GRACE_MS, type PipelineKind } from "./entry.ts";

/** Label names a pipeline's `labels` may not use: the info metric's own. */
const RESERVED_LABELS = new Set(["pipeline", "kind", "schedule", "job", "instance", "__name__"]);

const duration = z.string().transform((text, ctx) => {
  try {
    const ms = parseDuration(text) * 1000;
    if (ms > 0) return ms;
    ctx.addIssue({ code: "custom", message: "must be more than 0" });
  } catch {
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not a duration like 30s, 15m, 1h or 1d` });
  }
  return z.NEVER;
});

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "is not an IANA time zone such as UTC or Europe/Paris");

const cron = z.string().superRefine((text, ctx) => {
  try {
    new Cron(text, { mode: "5-part" });
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `is not a 5-field cron expression: ${(error as Error).message}` });
  }
});

const EntrySchema = z
  .strictObject({
    schedule: cron.optional(),
    timezone: timezone.optional(),
    every: duration.optional(),
    grace: duration.optional(),
    max_run_duration: duration.optional(),
    min_records: z.number().int().nonnegative().optional(),
    kind: z.enum(["batch", "service"]).optional(),
    labels: z
      .record(
        z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "label names must match ^[a-zA-Z_][a-zA-Z0-9_]*$")
          .refine((name) => !RESERVED_LABELS.has(name) && !name.startsWith("__"), "is a label the exporter sets itself"),
        z.union([z.string(), z.number(), z.boolean()]).transform(String),
      )
      .optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.schedule !== undefined && entry.every !== undefined) {
      ctx.addIssue({ code: "custom", path: ["every"], message: "give either schedule or every, not both" });
    }
    if (entry.timezone !== undefined && entry.schedule === undefined) {
      ctx.addIssue({ code: "custom", path: ["timezone"], message: "only applies to a cron schedule" });
    }
  })
  .nullable();

/**
 * The file's shape: `pipelines:` mapping names to entries (an empty entry
 * is a pipeline known by name, with the defaults).
 *
 * @example
 * ```ts
 * CatalogFileSchema.safeParse({ pipelines: { nightly: { every: "1d" } } }).success; // true
 * ```
 */
export const CatalogFileSchema = z.strictObject({
  pipelines: z.record(PipelineNameSchema, EntrySchema),
});

/** What {@linkcode parseCatalog} made of a text. */
export type CatalogResult = { ok: true; catalog: Catalog } | { ok: false; problems: string[] };

/**
 * Parses and checks a catalog file's text.
 *
 * @example
 * ```ts
 * parseCatalog("pipelines:\n  nightly:\n    every: soon\n");
 * // { ok: false, problems: ['pipeline "nightly", field every: "soon" is not a duration like 30s, 15m, 1h or 1d'] }
 * ```
 */
export function parseCatalog(text: string): CatalogResult {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    return { ok: false, problems: [`not YAML (nor JSON): ${(error as Error).message.split("\n")[0]}`] };
  }
  const parsed = CatalogFileSchema.safeParse(data ?? {});
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(describeIssue) };
  const pipelines: Record<string, CatalogEntry> = {};
  for (const [name, raw] of Object.entries(parsed.data.pipelines)) {
    const entry = raw ?? {};
    const scheduled = entry.schedule !== undefined || entry.every !== undefined;
    pipelines[name] = {
      kind: entry.kind ?? (scheduled ? "batch" : "service"),
      schedule: entry.schedule ?? null,
      timezone: entry.timezone ?? "UTC",
      cron: entry.schedule === undefined ? null : cronSchedule(entry.schedule, entry.timezone ?? "UTC"),
      everyMs: entry.every ?? null,
      graceMs: entry.grace ?? null,
      maxRunDurationMs: entry.max_run_duration ?? null,
      minRecords: entry.min_records ?? null,
      labels: entry.labels ?? {},
    };
  }
  return { ok: true, catalog: { pipelines } };
}

/** "pipeline "x", field y: message", or where in the file otherwise. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const [top, name, ...field] = issue.path.map(String);
  if (top === "pipelines" && name !== undefined) {
    if (issue.code === "invalid_key") {
      const why = issue.issues.map((inner) => inner.message).join("; ");
      return field.length === 0 ? `pipeline ${JSON.stringify(name)}: ${why}` : `pipeline ${JSON.stringify(name)}, field ${field.join(".")}: ${why}`;
    }
    if (issue.code === "unrecognized_keys") {
      return `pipeline ${JSON.stringify(name)}: unknown field ${issue.keys.join(", ")} (known: schedule, timezone, every, grace, max_run_duration, min_records, kind, labels)`;
    }
    return `pipeline ${JSON.stringify(name)}${field.length > 0 ? `, field ${field.join(".")}` : ""}: ${issue.message}`;
  }
  const where = issue.path.length > 0 ? issue.path.join(".") : "the file";
  return `${where}: ${issue.message}`;
}

/** A checked expression as a {@linkcode CronSchedule} (croner, in 5-field mode). */
function cronSchedule(expression: string, timezone: string): CronSchedule {
  const cron = new Cron(expression, { timezone, mode: "5-part" });
  return { nextAfter: (afterMs) => cron.nextRun(new Date(afterMs))?.getTime() ?? null };
}
