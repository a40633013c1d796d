/**
 * `runJob()`: one run of a job around the emitter: `etl_started` first, the
 * job's own events in between, then `etl_finished` with `success` when the
 * job returns or `failed` (and the error's message) when it throws, and the
 * sink flushed either way; the error is re-thrown as it is. The exporter then
 * knows the run ended, so a batch job between runs is idle, not stale.
 *
 * @example
 * ```ts
 * import { runJob } from "./run.ts";
 * await runJob(etl, sink, async (etl) => { etl.fileProcessed({ file: "a.csv", records: 1, duration_ms: 3 }); }, { version: "1.4.0" });
 * ```
 * @module
 */
import type { EventEmitter } from "../../lib/etl/emitter.ts";

/** The contract's bound on a message. */
const MAX_MESSAGE = 4096;

/** Runs `job` as one run; see the module notes. */
export async function runJob<T>(
  etl: EventEmitter,
  sink: { flush?: () => Promise<void> },
  job: (etl: EventEmitter) => Promise<T> | T,
  fields: { version?: string } = {},
): Promise<T> {
  const startedAt = performance.now();
  const durationMs = () => Math.round(performance.now() - startedAt);
  etl.started(fields);
  try {
    const result = await job(etl);
    etl.finished({ status: "success", duration_ms: durationMs() });
    return result;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_MESSAGE);
    etl.finished({ status: "failed", duration_ms: durationMs(), ...(message ? { message } : {}) });
    throw error;
  } finally {
    await sink.flush?.();
  }
}
