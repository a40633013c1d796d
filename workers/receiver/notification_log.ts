/**
 * The receiver's `notifications.jsonl`: one notification a line, appended
 * one after another, and rotated by size so that a sender cannot fill the
 * disk: past `maxBytes` the file becomes `<file>.1` (`.1` becomes `.2`, …)
 * and the oldest beyond `keep` is deleted. The disk it takes is at most
 * `(keep + 1) × maxBytes` (plus one notification).
 *
 * @example
 * ```ts
 * import { openNotificationLog } from "./notification_log.ts";
 * const log = await openNotificationLog({ path: "data/notifications.jsonl", maxBytes: 64 << 20, keep: 3 });
 * await log.append(JSON.stringify(notification) + "\n");
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { appendFile, rename, stat, unlink } from "node:fs/promises";

/**
 * Options of {@linkcode openNotificationLog}.
 *
 * @example
 * ```ts
 * const options: NotificationLogOptions = { path: "data/notifications.jsonl", maxBytes: 64 << 20, keep: 3 };
 * ```
 */
export interface NotificationLogOptions {
  path: string;
  /** A line that would take the file past this goes to a fresh file, the full one rotated. */
  maxBytes: number;
  /** Rotated files kept (`<path>.1` … `<path>.<keep>`); 0 keeps none. */
  keep: number;
}

/**
 * An open notification log.
 *
 * @example
 * ```ts
 * await log.append(line);
 * await log.flushed(); // at shutdown
 * ```
 */
export interface NotificationLog {
  /** Appends a line (ending with a newline), after the appends before it; rejects when it cannot. */
  append(line: string): Promise<void>;
  /** Resolves when every append so far has ended. */
  flushed(): Promise<void>;
}

/**
 * Opens (creating it) the log at `options.path`, continuing its size.
 *
 * @example
 * ```ts
 * const log = await openNotificationLog({ path, maxBytes: 1024, keep: 1 });
 * ```
 */
export async function openNotificationLog(options: NotificationLogOptions): Promise<NotificationLog> {
  const { path, maxBytes, keep } = options;
  await appendFile(path, "");
  let size = (await stat(path)).size;
  let tail: Promise<void> = Promise.resolve();

  const rotate = async (): Promise<void> => {
    const name = (i: number) => (i === 0 ? path : `${path}.${i}`);
    await ignoreMissing(unlink(name(keep)));
    for (let i = keep - 1; i >= 0; i--) await ignoreMissing(rename(name(i), name(i + 1)));
    size = 0;
  };
  const write = async (line: string): Promise<void> => {
    const bytes = Buffer.byteLength(line);
    if (size > 0 && size + bytes > maxBytes) await rotate();
    await appendFile(path, line);
    size += bytes;
  };
  return {
    append(line) {
      const done = tail.then(() => write(line));
      tail = done.catch(() => {});
      return done;
    },
    flushed: () => tail,
  };
}

async function ignoreMissing(operation: Promise<void>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
}
