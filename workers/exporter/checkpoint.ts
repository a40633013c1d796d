/**
 * The exporter's checkpoint: the ingest state and the reader's file
 * positions, saved together in one file so that a restart resumes exactly
 * where the saved state stops (no line lost, none counted twice).
 *
 * Writes are atomic (`writeFileAtomic`: temp file, fsync, rename, fsync of the directory), so
 * a crash leaves either the previous checkpoint or the new one. A file that
 * cannot be used is reported, not thrown: the exporter starts over from zero.
 *
 * @example
 * ```ts
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * const { checkpoint, problem } = await readCheckpoint("data/exporter-checkpoint.json");
 * if (problem) console.warn(`starting from zero: ${problem}`);
 * // ... tail for a while, then, between two reads of the state:
 * await writeCheckpoint("data/exporter-checkpoint.json", {
 *   checkpointVersion: 2, savedAtMs: Date.now(), state: tailer.state, files: tailer.positions(),
 * });
 * ```
 * @module
 */
import { readFile, rename, stat } from "node:fs/promises";
import { writeFileAtomic } from "../atomic_write.ts";
import * as z from "zod";
import { ErrorTypeSchema, PipelineNameSchema } from "../../lib/etl/events.ts";
import { RunStateSchema } from "../../lib/etl/runs.ts";
import { DURATION_BUCKETS_SECONDS, durationUs, type IngestState, WINDOW_SECONDS } from "../../lib/etl/state.ts";
import type { FilePosition } from "./tailer.ts";

/**
 * Bumped when the checkpoint's own shape changes (the state has `stateVersion`).
 *
 * @example
 * ```ts
 * const checkpoint: Checkpoint = { checkpointVersion: CHECKPOINT_VERSION, savedAtMs: Date.now(), state, files: {} };
 * ```
 */
export const CHECKPOINT_VERSION = 2;

/** Versions still read: version 1 saved positions without fingerprint and size (taken as unknown). */
const READABLE_VERSIONS: readonly number[] = [1, CHECKPOINT_VERSION];

/**
 * What is saved: the state and, by path, where each file's reading stands.
 * Both must be taken at the same instant (synchronously, between two awaits).
 *
 * @example
 * ```ts
 * const checkpoint: Checkpoint = {
 *   checkpointVersion: 2, savedAtMs: Date.now(), state: tailer.state, files: tailer.positions(),
 * };
 * ```
 */
export interface Checkpoint {
  checkpointVersion: typeof CHECKPOINT_VERSION;
  savedAtMs: number;
  state: IngestState;
  files: Record<string, FilePosition>;
}

const count = z.number().nonnegative();
const integer = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number();

const WindowSlotSchema = z.object({
  second: z.number().int(),
  records: count,
  files: count,
  durationUs: integer,
});

const PipelineStateSchema = z.object({
  recordsTotal: count,
  filesTotal: count,
  failuresTotal: count,
  // Keys are checked too: a name like "__proto__" must not reach an object used as a map.
  errorsByType: z.record(ErrorTypeSchema, count),
  startsTotal: count,
  lastStartMs: epochMs.nullable(),
  firstEventMs: epochMs,
  lastEventMs: epochMs,
  lastSuccessMs: epochMs.nullable(),
  consecutiveFailures: count,
  // Lengths are checked because the reducer indexes these arrays by bucket and by second.
  durationBucketCounts: z.array(count).length(DURATION_BUCKETS_SECONDS.length + 1),
  durationSumUs: integer,
  durationCount: count,
  window: z.array(WindowSlotSchema).length(WINDOW_SECONDS),
});

/**
 * A sane {@linkcode IngestState}: the shape the reducer relies on, not
 * every invariant between its numbers.
 *
 * @example
 * ```ts
 * IngestStateSchema.safeParse(createIngestState()).success; // true
 * ```
 */
export const IngestStateSchema = z.object({
  stateVersion: z.literal(2),
  pipelines: z.record(PipelineNameSchema, PipelineStateSchema),
  lines: z.object({ parsed: count, malformed: count, rejected: count, too_long: count }),
  // Absent from checkpoints written before the limits: nothing was dropped then.
  dropped: z.object({ pipeline_limit: count, clock_ahead: count, too_old: count })
    .default({ pipeline_limit: 0, clock_ahead: 0, too_old: 0 }),
  bytesRead: count,
  bytesLost: count,
  errorTypesFolded: count,
  // Required: a checkpoint from before runs were kept is refused, and the logs are read again from the start.
  runs: z.record(PipelineNameSchema, RunStateSchema),
});

const FilePositionV1Schema = z.object({ ino: integer, dev: integer, offset: integer });

/**
 * A file's saved position, with the first bytes (base64) and size that tell the file again.
 *
 * @example
 * ```ts
 * FilePositionSchema.parse({ ino: 12, dev: 2049, fingerprint: "e30K", offset: 0, size: 3 });
 * ```
 */
export const FilePositionSchema = FilePositionV1Schema.extend({
  fingerprint: z.string().max(128).regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64"),
  size: integer,
  truncated: z.literal(true).optional(),
});

/**
 * The checkpoint file.
 *
 * @example
 * ```ts
 * CheckpointSchema.safeParse(JSON.parse(text)).success;
 * ```
 */
export const CheckpointSchema = z.object({
  checkpointVersion: z.literal(CHECKPOINT_VERSION),
  savedAtMs: z.number().int().nonnegative(),
  state: IngestStateSchema,
  files: z.record(z.string().min(1), FilePositionSchema),
});

/** State version 1 kept durations as floating-point seconds (sum) and milliseconds (window). */
const IngestStateV1Schema = IngestStateSchema.omit({ bytesLost: true }).extend({
  stateVersion: z.literal(1),
  pipelines: z.record(
    PipelineNameSchema,
    PipelineStateSchema.omit({ durationSumUs: true, window: true }).extend({
      durationSumSeconds: count,
      window: z.array(WindowSlotSchema.omit({ durationUs: true }).extend({ durationMs: count })).length(WINDOW_SECONDS),
    }),
  ),
});

/**
 * Version 1, read into a version 2 checkpoint: an empty fingerprint matches
 * by inode alone; durations are rounded to whole microseconds.
 */
const CheckpointV1Schema = CheckpointSchema.extend({
  checkpointVersion: z.literal(1),
  state: IngestStateV1Schema,
  files: z.record(z.string().min(1), FilePositionV1Schema),
}).transform((v1): z.infer<typeof CheckpointSchema> => ({
  ...v1,
  checkpointVersion: CHECKPOINT_VERSION,
  state: {
    ...v1.state,
    stateVersion: 2,
    bytesLost: 0,
    pipelines: Object.fromEntries(
      Object.entries(v1.state.pipelines).map(([name, { durationSumSeconds, window, ...p }]) => [name, {
        ...p,
        durationSumUs: Math.round(durationSumSeconds * 1e6),
        window: window.map(({ durationMs, ...slot }) => ({ ...slot, durationUs: durationUs(durationMs) })),
      }]),
    ),
  },
  files: Object.fromEntries(Object.entries(v1.files).map(([path, p]) => [path, { ...p, fingerprint: "", size: p.offset }])),
}));

/**
 * What {@linkcode readCheckpoint} found; `problem` says why a present file was not used.
 *
 * @example
 * ```ts
 * const result: ReadCheckpointResult = await readCheckpoint(path);
 * if (result.checkpoint === undefined && result.problem) log.error(result.problem);
 * ```
 */
export type ReadCheckpointResult =
  | { checkpoint: Checkpoint; problem?: undefined }
  | { checkpoint: undefined; problem?: string };

/**
 * Saves a checkpoint atomically. The checkpoint is serialised before the
 * first `await`, so the caller may go on changing the state right away.
 *
 * @example
 * ```ts
 * await writeCheckpoint("data/exporter-checkpoint.json", {
 *   checkpointVersion: 2, savedAtMs: Date.now(), state, files: tailer.positions(),
 * });
 * ```
 */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(checkpoint));
}

/**
 * Loads a checkpoint. A missing file gives no checkpoint and no problem; a
 * corrupt, invalid or other-version file gives no checkpoint and the reason.
 * Other read errors (permissions) throw: starting from zero then would count
 * the logs twice.
 *
 * @example
 * ```ts
 * const { checkpoint, problem } = await readCheckpoint("data/exporter-checkpoint.json");
 * const state = checkpoint?.state ?? createIngestState();
 * ```
 */
export async function readCheckpoint(path: string): Promise<ReadCheckpointResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return { checkpoint: undefined };
    throw error;
  }
  return parseCheckpoint(text);
}

/**
 * What {@linkcode loadCheckpoint} found: `movedTo` names where an unusable
 * file was put aside.
 *
 * @example
 * ```ts
 * const { checkpoint, problem, movedTo } = await loadCheckpoint(path, maxCheckpointBytes(limits));
 * ```
 */
export type LoadCheckpointResult = ReadCheckpointResult & { movedTo?: string };

/**
 * Reads a checkpoint as {@linkcode readCheckpoint} does, but first refuses
 * a file larger than `maxBytes` (parsing it could take more memory than the
 * exporter has, and a crash there would repeat on every restart), and moves
 * any file it cannot use aside to `<path>.corrupt`, replacing an older one,
 * so the reason stays on disk for a look while the exporter starts over.
 *
 * @example
 * ```ts
 * const saved = await loadCheckpoint("data/exporter-checkpoint.json", 80 * 1024 * 1024);
 * if (saved.problem) log.error(`${saved.problem}; moved to ${saved.movedTo}`);
 * ```
 */
export async function loadCheckpoint(path: string, maxBytes: number): Promise<LoadCheckpointResult> {
  let result: ReadCheckpointResult;
  try {
    const { size } = await stat(path);
    result = size > maxBytes
      ? { checkpoint: undefined, problem: `checkpoint is ${size} bytes, more than the ${maxBytes} the limits allow` }
      : await readCheckpoint(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return { checkpoint: undefined };
    throw error;
  }
  if (result.checkpoint !== undefined || result.problem === undefined) return result;
  const movedTo = `${path}.corrupt`;
  await rename(path, movedTo);
  return { ...result, movedTo };
}

/**
 * Validates the text of a checkpoint file.
 *
 * @example
 * ```ts
 * parseCheckpoint("{").problem; // "checkpoint is not valid JSON: ..."
 * ```
 */
export function parseCheckpoint(text: string): ReadCheckpointResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { checkpoint: undefined, problem: `checkpoint is not valid JSON: ${(error as Error).message}` };
  }
  const versionProblem = describeVersionMismatch(json);
  if (versionProblem !== undefined) return { checkpoint: undefined, problem: versionProblem };
  const parsed = (json as { checkpointVersion?: unknown }).checkpointVersion === 1
    ? CheckpointV1Schema.safeParse(json)
    : CheckpointSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { checkpoint: undefined, problem: `checkpoint is invalid: ${where}${issue?.message ?? "invalid"}` };
  }
  const checkpoint: Checkpoint = parsed.data;
  return { checkpoint };
}

/** Names a version mismatch plainly, rather than as a schema error deep in the file. */
function describeVersionMismatch(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const { checkpointVersion, state } = json as { checkpointVersion?: unknown; state?: unknown };
  if (checkpointVersion === undefined) return "checkpoint has no checkpointVersion";
  if (!READABLE_VERSIONS.includes(checkpointVersion as number)) {
    return `checkpoint version ${JSON.stringify(checkpointVersion)} is not supported (expected ${READABLE_VERSIONS.join(" or ")})`;
  }
  if (typeof state !== "object" || state === null || !("stateVersion" in state)) return undefined;
  // Each checkpoint version holds the state version of its time.
  if (state.stateVersion !== checkpointVersion) {
    return `checkpoint state version ${JSON.stringify(state.stateVersion)} is not supported (expected ${checkpointVersion})`;
  }
  return undefined;
}
