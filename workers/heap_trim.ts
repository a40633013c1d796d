/**
 * Gives back the heap a burst of requests grew. Under thousands of scrapes a
 * second, objects of requests in flight outlive two scavenges and are
 * promoted; V8 then lets the old space grow (to 32 MB committed for 10 MB
 * live, in `bench/scrape.ts`) and keeps it after the load is over. Checked
 * once a second: when the old space has grown more than `growthBytes` past
 * its size after the last full collection, or has grown at all and then
 * stayed the same for a second (a burst ended), one full collection is run,
 * which also gives the freed pages back. Idle, nothing runs; under load, at
 * most one a second. The young generation is bounded by `--max-semi-space-size`
 * instead (a start-up flag: see the README's "Memory after a load").
 *
 * `gc` is reached through `v8.setFlagsFromString("--expose-gc")` and a fresh
 * context, so no start-up flag is needed; where that is not available (it is on
 * Node and Deno) nothing is done.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

function exposedGc(): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    return typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

const oldSpaceBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_size ?? 0;

/** Starts the check; returns what stops it. `collect` is for tests; `null` when there is none. */
export function trimHeapAfterGrowth(growthBytes = 2 * 1024 * 1024, collect: (() => void) | null = exposedGc()): () => void {
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
