/**
 * The exporter's checkpoint: the ingest state and the tailer's file
 * positions, saved together in one file so that a restart resumes exactly
 * where the saved state stops (no line lost, none counted twice).
 *
 * Writes are atomic (temp file, fsync, rename, fsync of the directory), so
 * a crash leaves either the previous checkpoint or the new one. A file that
 * cannot be used is reported, not thrown: the exporter starts over from zero.
 *
 * @example
 * ```ts
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * const { checkpoint, problem } = await readCheckpoint("data/exporter.checkpoint.json");
 * if (problem) console.warn(`starting from zero: ${problem}`);
 * // ... tail for a while, then, between two reads of the state:
 * await writeCheckpoint("data/exporter.checkpoint.json", {
 *   checkpointVersion: 1, savedAtMs: Date.now(), state: tailer.state, files: tailer.positions(),
 * });
 * ```
 * @module
 */
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as z from "zod";
import { ErrorTypeSchema, PipelineNameSchema } from "../../lib/etl/events.ts";
import { RunStateSchema } from "../../lib/etl/runs.ts";
import { DURATION_BUCKETS_SECONDS, type IngestState, WINDOW_SECONDS } from "../../lib/etl/state.ts";
import type { FilePosition } from "./tailer.ts";

/**
 * Bumped when the checkpoint's own shape changes (the state has `stateVersion`).
 *
 * @example
 * ```ts
 * const checkpoint: Checkpoint = { checkpointVersion: CHECKPOINT_VERSION, savedAtMs: Date.now(), state, files: {} };
 * ```
 */
export const CHECKPOINT_VERSION = 1;

/**
 * What is saved: the state and, by path, where each file's reading stands.
 * Both must be taken at the same instant (synchronously, between two awaits).
 *
 * @example
 * ```ts
 * const checkpoint: Checkpoint = {
 *   checkpointVersion: 1, savedAtMs: Date.now(), state: tailer.state, files: tailer.positions(),
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
  durationMs: count,
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
  durationSumSeconds: count,
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
  stateVersion: z.literal(1),
  pipelines: z.record(PipelineNameSchema, PipelineStateSchema),
  lines: z.object({ parsed: count, malformed: count, rejected: count, too_long: count }),
  bytesRead: count,
  errorTypesFolded: count,
  // Required: a checkpoint from before runs were kept is refused, and the logs are read again from the start.
  runs: z.record(PipelineNameSchema, RunStateSchema),
});

/**
 * A file's saved position.
 *
 * @example
 * ```ts
 * FilePositionSchema.parse({ ino: 12, dev: 2049, offset: 0 });
 * ```
 */
export const FilePositionSchema = z.object({ ino: integer, dev: integer, offset: integer });

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
 * await writeCheckpoint("data/exporter.checkpoint.json", {
 *   checkpointVersion: 1, savedAtMs: Date.now(), state, files: tailer.positions(),
 * });
 * ```
 */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const text = JSON.stringify(checkpoint);
  const dir = dirname(path);
  // In the same directory, so the rename cannot cross filesystems.
  const temp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * Loads a checkpoint. A missing file gives no checkpoint and no problem; a
 * corrupt, invalid or other-version file gives no checkpoint and the reason.
 * Other read errors (permissions) throw: starting from zero then would count
 * the logs twice.
 *
 * @example
 * ```ts
 * const { checkpoint, problem } = await readCheckpoint("data/exporter.checkpoint.json");
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
  const parsed = CheckpointSchema.safeParse(json);
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
  if (checkpointVersion !== CHECKPOINT_VERSION) {
    return `checkpoint version ${JSON.stringify(checkpointVersion)} is not supported (expected ${CHECKPOINT_VERSION})`;
  }
  if (typeof state !== "object" || state === null || !("stateVersion" in state)) return undefined;
  if (state.stateVersion !== 1) {
    return `checkpoint state version ${JSON.stringify(state.stateVersion)} is not supported (expected 1)`;
  }
  return undefined;
}

/** Makes the rename durable; some platforms refuse to fsync a directory, which is fine there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL") throw error;
  } finally {
    await handle?.close();
  }
}
