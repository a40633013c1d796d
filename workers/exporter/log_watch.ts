/**
 * The wake-up of the exporter's log reader: `fs.watch` on the directory
 * (inotify on Linux; under Deno, `node:fs` maps it to `Deno.watchFs`), which
 * reports appends, creations and renames of the files in it. Events arriving
 * while the reader is busy are folded into one wake-up. A directory that does
 * not exist yet, or a file system that does not notify (NFS), leaves the
 * timeout: polling stays the safety net either way.
 *
 * @example
 * ```ts
 * import { watchLogDir } from "./log_watch.ts";
 * const watch = watchLogDir("data/logs");
 * await watch.next(250, AbortSignal.timeout(1000)); // a change, 250 ms, or the abort
 * watch.close();
 * ```
 * @module
 */
import { type FSWatcher, watch } from "node:fs";

/**
 * Wake-ups for one directory.
 *
 * @example
 * ```ts
 * const watch: LogWatch = watchLogDir(dir);
 * ```
 */
export interface LogWatch {
  /** Resolves at the next change (at once if one came since the last call), after `timeoutMs`, or on abort. */
  next(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Whether the file system is reporting changes (false: polling only, for now). */
  readonly watching: boolean;
  close(): void;
}

/**
 * Watches `dir`; see the module documentation.
 *
 * @example
 * ```ts
 * const watch = watchLogDir("data/logs");
 * ```
 */
export function watchLogDir(dir: string): LogWatch {
  let watcher: FSWatcher | undefined;
  let changed = false;
  let wake: (() => void) | undefined;
  let closed = false;
  const onChange = (): void => {
    changed = true;
    wake?.();
  };
  const start = (): void => {
    if (watcher !== undefined || closed) return;
    try {
      watcher = watch(dir, { persistent: false }, onChange);
      // The directory removed, or the watch broken: back to polling until it can start again.
      watcher.on("error", () => {
        watcher?.close();
        watcher = undefined;
      });
      // Whatever happened before the watch began is for the next poll to see.
      changed = true;
    } catch {
      watcher = undefined;
    }
  };
  start();
  return {
    get watching() {
      return watcher !== undefined;
    },
    next(timeoutMs, signal) {
      start();
      if (changed || signal.aborted) {
        changed = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = undefined;
          changed = false;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    },
    close() {
      closed = true;
      watcher?.close();
      watcher = undefined;
      wake?.();
    },
  };
}
