/**
 * Gives back the heap a burst of requests grew. Under thousands of scrapes a
 * second, objects of requests in flight outlive two scavenges and are
 * promoted; V8 then lets the old space grow (to 32 MB committed for 10 MB
 * live, in `bench/scrape.ts`) and keeps it after the load is over. Checked
 * once a second: when the old space has grown more than `growthBytes` past
 * its size after the last full collection, or has grown at all and then
 * stayed the same for a second (a burst ended), one full, compacting
 * collection is run, which gives the freed pages back. Idle, nothing runs;
 * under load, at most one a second. The young generation is bounded by
 * `--max-semi-space-size` instead (a start-up flag: see the README's
 * "Memory after a load").
 *
 * `gc` is reached through `v8.setFlagsFromString("--expose-gc")` and a fresh
 * context, so no start-up flag is needed; where that is not available (it is on
 * Node and Deno) nothing is done.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

/**
 * A full collection that also compacts. V8's own heuristics leave the pages a
 * burst left behind in place while each holds a few live objects (after the
 * README's load: 13 MB of old space for 9 MB live, +6 to +11 MB of RSS over
 * the RSS after a first scrape); evacuating them gives those pages back
 * (+2 to +3 MB). The flag is a GC heuristic V8 reads at each full
 * collection, so it is turned on only for this one.
 */
export function compactingGc(): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    if (typeof gc !== "function") return null;
    return () => {
      v8.setFlagsFromString("--compact-on-every-full-gc");
      try {
        (gc as () => void)();
      } finally {
        v8.setFlagsFromString("--no-compact-on-every-full-gc");
      }
    };
  } catch {
    return null;
  }
}

const oldSpaceBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_size ?? 0;

/** Starts the check; returns what stops it. `collect` is for tests; `null` when there is none. */
export function trimHeapAfterGrowth(growthBytes = 2 * 1024 * 1024, collect: (() => void) | null = compactingGc()): () => void {
  if (collect === null) return () => {};
  let base = oldSpaceBytes();
  let last = base;
  let quietCollected = true;
  const collectNow = () => {
    collect();
    base = last = oldSpaceBytes();
  };
  const timer = setInterval(() => {
    const size = oldSpaceBytes();
    if (size > base + growthBytes) {
      collectNow();
      quietCollected = false;
    } else if (size !== last) {
      // Still growing: wait for the burst to end.
      last = size;
      quietCollected = false;
    } else if (!quietCollected && size > base) {
      // A second without growth after some: the burst is over, give back what it left.
      collectNow();
      quietCollected = true;
    }
  }, 1000);
  // The check never keeps the process alive.
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
