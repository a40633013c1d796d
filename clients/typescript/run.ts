/**
 * `runJob()`: one run of a job around the emitter: `etl_started` first, the
 * job's own events in between, the sink flushed at the end whether the job
 * returned or threw (the error is re-thrown as it is). The contract has no
 * `etl_finished` yet (the batch issue adds it); once it does, this emits it
 * with the status.
 *
 * @example
 * ```ts
 * import { runJob } from "./run.ts";
 * await runJob(etl, sink, async (etl) => { etl.fileProcessed({ file: "a.csv", records: 1, duration_ms: 3 }); }, { version: "1.4.0" });
 * ```
 * @module
 */
import type { EventEmitter } from "../../lib/etl/emitter.ts";

/** Runs `job` as one run; see the module notes. */
export async function runJob<T>(
  etl: EventEmitter,
  sink: { flush?: () => Promise<void> },
  job: (etl: EventEmitter) => Promise<T> | T,
  fields: { version?: string } = {},
): Promise<T> {
  etl.started(fields);
  try {
    return await job(etl);
  } finally {
    await sink.flush?.();
  }
}
