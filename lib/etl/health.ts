/**
 * When a pipeline counts as healthy. A pipeline is unhealthy when either
 * - no event (heartbeats included) arrived for `staleAfterMs` (default 60 s;
 *   heartbeats come every 5 s, so this means the process stopped or hung), or
 * - its last `maxConsecutiveFailures` (default 6) files in a row all failed
 *   (the default profile fails about a third of its files, so 6 in a row
 *   happens a few times a day by chance and lasts one file).
 *
 * A pipeline between runs (its last run finished, none in progress: a batch
 * job waiting for its next run) is neither: silence is expected then. What
 * its runs should have done is the catalog's business (`lib/catalog`).
 *
 * @example
 * ```ts
 * import { assessPipeline } from "./health.ts";
 * import { createPipelineState } from "./state.ts";
 * assessPipeline(createPipelineState(0), 61_000).healthy; // false: stale
 * ```
 * @module
 */
import { betweenRuns, type RunState, runsOf } from "./runs.ts";
import type { IngestState, PipelineState } from "./state.ts";

/** Thresholds of the health verdict. */
export interface HealthPolicy {
  staleAfterMs: number;
  maxConsecutiveFailures: number;
}

/** The defaults the README documents. */
export const DEFAULT_HEALTH_POLICY: HealthPolicy = { staleAfterMs: 60_000, maxConsecutiveFailures: 6 };

/** The verdict on one pipeline, with the reasons when unhealthy. */
export interface PipelineHealth {
  healthy: boolean;
  reasons: string[];
}

/** Judges one pipeline at `nowMs`; `runs` are its runs (`state.runs[name]`). */
export function assessPipeline(
  pipeline: PipelineState,
  nowMs: number,
  policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
  runs?: RunState,
): PipelineHealth {
  const reasons: string[] = [];
  if (betweenRuns(runs)) return { healthy: true, reasons };
  const silentMs = nowMs - pipeline.lastEventMs;
  if (silentMs > policy.staleAfterMs) {
    reasons.push(`no event for ${Math.round(silentMs / 1000)} s (limit ${policy.staleAfterMs / 1000} s)`);
  }
  if (pipeline.consecutiveFailures >= policy.maxConsecutiveFailures) {
    reasons.push(`last ${pipeline.consecutiveFailures} files failed in a row`);
  }
  return { healthy: reasons.length === 0, reasons };
}

/**
 * Judges every pipeline; overall healthy only when at least one pipeline
 * was seen and all of them are healthy (no logs at all is not healthy).
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * assessHealth(createIngestState(), 0).healthy; // false
 * ```
 */
export function assessHealth(
  state: IngestState,
  nowMs: number,
  policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
): { healthy: boolean; pipelines: Record<string, PipelineHealth> } {
  const pipelines: Record<string, PipelineHealth> = {};
  let healthy = true;
  let seen = 0;
  for (const [name, pipeline] of Object.entries(state.pipelines)) {
    const verdict = assessPipeline(pipeline, nowMs, policy, runsOf(state.runs, name));
    pipelines[name] = verdict;
    healthy &&= verdict.healthy;
    seen++;
  }
  return { healthy: healthy && seen > 0, pipelines };
}
