/**
 * What the handlers render: a state and the moment it is read at. Handlers
 * take a {@linkcode SnapshotSource} and hold nothing themselves, so any
 * number of them can serve the same state.
 *
 * @example
 * ```ts
 * import { createIngestState } from "./state.ts";
 * import type { SnapshotSource } from "./snapshot.ts";
 * const state = createIngestState();
 * const source: SnapshotSource = () => ({ state, nowMs: Date.now(), ready: true });
 * ```
 * @module
 */
import type { Catalog } from "../catalog/entry.ts";
import type { HealthPolicy } from "./health.ts";
import type { IngestState } from "./state.ts";

/** Facts about the exporter itself; absent when the simulator serves its own state. */
export interface ExporterFacts {
  /** When the last checkpoint was written (epoch ms), `null` before the first. */
  checkpointSavedAtMs: number | null;
  rotations: number;
  truncations: number;
  filesTailed: number;
  /** Pipelines left out for having logged nothing for `--retire-after`, counted as they go. */
  pipelinesRetired?: number;
}

/** A consistent view of the state at one moment. */
export interface Snapshot {
  state: IngestState;
  nowMs: number;
  /** The initial catch-up of the logs is done. */
  ready: boolean;
  exporter?: ExporterFacts;
  healthPolicy?: HealthPolicy;
  /** What each pipeline is expected to do (`--pipelines-file`); absent without one. */
  catalog?: Catalog;
  /** When the catalog was first loaded: where a never-seen pipeline's deadline counts from. */
  catalogLoadedAtMs?: number;
}

/** Where handlers get the state from; called once per request. */
export type SnapshotSource = () => Snapshot;
