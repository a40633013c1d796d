/**
 * Where pushed events go: appended to `pushed-<pipeline>.log` in the log
 * directory, which the tailer reads like any other log, and fsynced before
 * the promise resolves. Concurrent requests share one write and one fsync per
 * file (group commit). Duplicates are told apart at commit time, one group
 * after the other, so two requests racing with the same `event_id` append it once.
 *
 * @example
 * ```ts
 * import { createPushSink } from "./push_sink.ts";
 * const sink = createPushSink({ dir: "data/logs", maxQueuedEvents: 100_000, dedupe });
 * const { accepted, duplicates } = await sink.append(batch.accepted);
 * ```
 * @module
 */
import { type FileHandle, open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DedupeWindow } from "../../lib/ingest/dedupe_window.ts";
import type { PushedEvent } from "../../lib/ingest/push_batch.ts";

/** The file pushed events of `pipeline` are appended to. */
export const pushedLogName = (pipeline: string) => `pushed-${pipeline}.log`;
const PUSHED_LOG = /^pushed-[a-z0-9][a-z0-9_-]{0,62}\.log$/;

/** The write queue is full: answer 429 and let the client retry. */
export class PushQueueFull extends Error {}
/** The log could not be written (disk full, permissions): answer 503. */
export class PushWriteFailed extends Error {}

/** What became of the events of one request. */
export interface PushOutcome {
  accepted: number;
  /** Indexes of events whose `event_id` was already taken. */
  duplicates: number[];
}

/** Settings of {@linkcode createPushSink}. */
export interface PushSinkOptions {
  dir: string;
  /** Events waiting for a write beyond this are refused with {@linkcode PushQueueFull}. */
  maxQueuedEvents: number;
  dedupe: DedupeWindow;
  now?: () => number;
}

/** The sink the handler appends to. */
export interface PushSink {
  append(events: readonly PushedEvent[]): Promise<PushOutcome>;
  close(): Promise<void>;
}

interface Pending {
  events: readonly PushedEvent[];
  resolve: (outcome: PushOutcome) => void;
  reject: (error: Error) => void;
}

/** Opens the sink; see the module notes. */
export function createPushSink(options: PushSinkOptions): PushSink {
  const now = options.now ?? Date.now;
  const files = new Map<string, FileHandle>();
  let queue: Pending[] = [];
  let queuedEvents = 0;
  let writing: Promise<void> | null = null;

  const handleOf = async (pipeline: string): Promise<FileHandle> => {
    let handle = files.get(pipeline);
    if (!handle) {
      handle = await open(join(options.dir, pushedLogName(pipeline)), "a");
      files.set(pipeline, handle);
      // A new file's name must survive a crash too: the directory entry is synced once.
      const dir = await open(options.dir, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
    return handle;
  };

  const commit = async (group: Pending[]) => {
    const at = now();
    const taken = new Set<string>();
    const outcomes: PushOutcome[] = [];
    const lines = new Map<string, string[]>();
    const ids: [string, string][] = [];
    for (const pending of group) {
      const outcome: PushOutcome = { accepted: 0, duplicates: [] };
      for (const event of pending.events) {
        if (event.eventId !== undefined) {
          const key = `${event.pipeline}\n${event.eventId}`;
          if (taken.has(key) || options.dedupe.has(event.pipeline, event.eventId, at)) {
            outcome.duplicates.push(event.index);
            continue;
          }
          taken.add(key);
          ids.push([event.pipeline, event.eventId]);
        }
        const list = lines.get(event.pipeline) ?? [];
        list.push(event.line);
        lines.set(event.pipeline, list);
        outcome.accepted += 1;
      }
      outcomes.push(outcome);
    }
    try {
      await Promise.all(
        [...lines].map(async ([pipeline, list]) => {
          const handle = await handleOf(pipeline);
          await handle.appendFile(list.join("\n") + "\n");
          await handle.datasync();
        }),
      );
    } catch (error) {
      const failure = new PushWriteFailed(`cannot write the pushed events: ${(error as Error).message}`, { cause: error });
      for (const pending of group) pending.reject(failure);
      return;
    }
    // Remembered only once on disk: a failed write leaves the ids free for the retry.
    for (const [pipeline, eventId] of ids) options.dedupe.remember(pipeline, eventId, at);
    group.forEach((pending, i) => pending.resolve(outcomes[i]!));
  };

  const drain = async () => {
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      queuedEvents -= group.reduce((sum, pending) => sum + pending.events.length, 0);
      await commit(group);
    }
    writing = null;
  };

  return {
    append(events) {
      if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: [] });
      if (queuedEvents + events.length > options.maxQueuedEvents && queuedEvents > 0) {
        return Promise.reject(new PushQueueFull(`${queuedEvents} events are waiting to be written`));
      }
      return new Promise<PushOutcome>((resolve, reject) => {
        queue.push({ events, resolve, reject });
        queuedEvents += events.length;
        writing ??= drain();
      });
    },
    async close() {
      await writing;
      await Promise.all([...files.values()].map((handle) => handle.close()));
      files.clear();
    },
  };
}

/**
 * Fills `dedupe` with the `event_id`s already in the pushed files, so that a
 * retry after a restart is still a duplicate. Each is remembered as taken
 * now: a full window from the start, at least as long as before the restart.
 */
export async function rememberPushedIds(dir: string, dedupe: DedupeWindow, nowMs: number): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => PUSHED_LOG.test(name));
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return 0;
    throw error;
  }
  let count = 0;
  for (const name of names) {
    const pipeline = name.slice("pushed-".length, -".log".length);
    for (const line of (await readFile(join(dir, name), "utf8")).split("\n")) {
      // Only lines naming an id are worth parsing; the rest were appended without one.
      if (!line.includes('"event_id"')) continue;
      try {
        const eventId = (JSON.parse(line) as { event_id?: unknown }).event_id;
        if (typeof eventId === "string") {
          dedupe.remember(pipeline, eventId, nowMs);
          count += 1;
        }
      } catch {
        // A torn last line (a crash mid-write) was never acknowledged: nothing to remember.
      }
    }
  }
  return count;
}
