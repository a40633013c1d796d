/**
 * The log contract, version 1: one JSON object per line, UTF-8, append-only.
 *
 * These zod schemas are the single source of the contract. The JSON Schema in
 * `lib/etl/etl-log-event.v1.schema.json` is generated from them (`npm run build:schema`),
 * and the README documents them field by field.
 *
 * @example
 * ```ts
 * import { EtlEventSchema } from "./events.ts";
 * const event = EtlEventSchema.parse(JSON.parse(line));
 * if (event.event === "file_processed") console.log(event.records);
 * ```
 * @module
 */
import * as z from "zod";

/** The contract version this exporter reads; written as `v` on every line. */
export const LOG_CONTRACT_VERSION = 1;

/** Error categories the simulator produces; each is exported at 0 from the start. */
export const KNOWN_ERROR_TYPES = [
  "connection_timeout",
  "schema_validation",
  "data_corruption",
  "disk_full",
  "permission_denied",
] as const;

/** What {@linkcode PipelineNameSchema} matches; shared with the fast path (`fast_event.ts`). */
export const PIPELINE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A name safe as a Prometheus label value and as a file-name part. */
export const PipelineNameSchema = z
  .string()
  .regex(PIPELINE_NAME_PATTERN, "pipeline must match ^[a-z0-9][a-z0-9_-]{0,62}$");

/** What {@linkcode ErrorTypeSchema} matches; shared with the fast path (`fast_event.ts`). */
export const ERROR_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** An error category: snake_case, short, so it stays a sane label value. */
export const ErrorTypeSchema = z
  .string()
  .regex(ERROR_TYPE_PATTERN, "error_type must be snake_case, at most 63 characters");

/** RFC 3339 time with milliseconds and an offset, e.g. `2026-11-23T10:00:00.000Z`. */
export const EventTimeSchema = z.iso.datetime({ offset: true, precision: 3 });

/**
 * Bounds of the contract's fields, named so that the fast path
 * (`fast_event.ts`) checks the same ones as these schemas.
 */
export const CONTRACT_BOUNDS = {
  /** `run_id`, `event_id` and `version`, in UTF-16 code units (as zod counts). */
  idLength: 64,
  fileLength: 1024,
  messageLength: 4096,
  durationMs: 1e12,
} as const;
/** The levels of `level`. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** The values of a heartbeat's `state`. */
export const HEARTBEAT_STATES = ["idle", "processing"] as const;

const nonNegativeInt = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const nonNegativeNumber = z.number().nonnegative().max(CONTRACT_BOUNDS.durationMs);
const id = z.string().min(1).max(CONTRACT_BOUNDS.idLength);
const fileName = z.string().min(1).max(CONTRACT_BOUNDS.fileLength);
const message = z.string().max(CONTRACT_BOUNDS.messageLength);

/** Fields every event carries. */
const common = {
  /** Contract version; lines without it are read as version 1. */
  v: z.literal(LOG_CONTRACT_VERSION).optional(),
  /** RFC 3339 time with milliseconds and an offset, e.g. `2026-11-23T10:00:00.000Z`. */
  ts: EventTimeSchema,
  level: z.enum(LOG_LEVELS),
  pipeline: PipelineNameSchema,
  /** Identifies one run of the ETL process (set at `etl_started`). */
  run_id: id.optional(),
  /** Makes a pushed event idempotent: a repeat of its pipeline's id within the dedupe window is not counted again. */
  event_id: id.optional(),
};

/**
 * The ETL process started: uptime counts from here, a second one is a restart.
 * It also opens a run; one still open when the next starts is counted failed.
 */
export const EtlStartedSchema = z.object({
  ...common,
  event: z.literal("etl_started"),
  version: z.string().max(CONTRACT_BOUNDS.idLength).optional(),
});

/** The process is alive; sent regularly, also in the middle of a long file. */
export const HeartbeatSchema = z.object({
  ...common,
  event: z.literal("heartbeat"),
  /** What the process is doing at the moment. */
  state: z.enum(HEARTBEAT_STATES).optional(),
});

/** A file was taken up; informational. */
export const FileStartedSchema = z.object({
  ...common,
  event: z.literal("file_started"),
  file: fileName,
});

/** A file was processed to the end. */
export const FileProcessedSchema = z.object({
  ...common,
  event: z.literal("file_processed"),
  file: fileName,
  records: nonNegativeInt,
  duration_ms: nonNegativeNumber,
  bytes: nonNegativeInt.optional(),
});

/** A file failed part-way; `records` counts those processed before the failure. */
export const FileFailedSchema = z.object({
  ...common,
  event: z.literal("file_failed"),
  file: fileName,
  error_type: ErrorTypeSchema,
  records: nonNegativeInt,
  duration_ms: nonNegativeNumber,
  message,
});

/** How a run ended. */
export const RUN_STATUSES = ["success", "failed", "cancelled"] as const;
/** One of {@linkcode RUN_STATUSES}. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * A run ended (added within version 1): it closes the pipeline's run in
 * progress, the one its `etl_started` opened. `records`, when given, is the
 * run's own count and takes the place of the sum of its files'.
 */
export const EtlFinishedSchema = z.object({
  ...common,
  event: z.literal("etl_finished"),
  status: z.enum(RUN_STATUSES),
  records: nonNegativeInt.optional(),
  duration_ms: nonNegativeNumber.optional(),
  message: message.optional(),
});

/** Any event of the contract, told apart by `event`. */
export const EtlEventSchema = z.discriminatedUnion("event", [
  EtlStartedSchema,
  HeartbeatSchema,
  FileStartedSchema,
  FileProcessedSchema,
  FileFailedSchema,
  EtlFinishedSchema,
]);

/** One event of the log contract. */
export type EtlEvent = z.infer<typeof EtlEventSchema>;
/** The names of the event kinds. */
export type EtlEventName = EtlEvent["event"];
