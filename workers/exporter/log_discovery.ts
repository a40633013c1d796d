/**
 * Discovery, the first part of the exporter's log reader: which files of the
 * log directory are read, found by one `readdir` and a `stat` each. The names
 * are {@link ../../lib/etl/rotation_set.ts}'s rule: every `<name>.log` and its
 * rotation set, compressed rotations excluded, listed oldest first per set.
 *
 * @example
 * ```ts
 * import { discoverLogFiles } from "./log_discovery.ts";
 * for (const file of (await discoverLogFiles("data/logs")) ?? []) console.log(file.path, file.ino, file.size);
 * ```
 * @module
 */
import type { Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { compareLogAge, logNameOf } from "../../lib/etl/rotation_set.ts";

/**
 * A file found by a scan: where, which (device and inode) and how long.
 *
 * @example
 * ```ts
 * const file: FoundFile = { path: "data/logs/orders.log.1", set: "orders.log", dev: 65024, ino: 5308446, size: 4096, changedMs: 0 };
 * ```
 */
export interface FoundFile {
  path: string;
  /** The `<name>.log` of its rotation set. */
  set: string;
  dev: number;
  ino: number;
  size: number;
  /** When its inode last changed (`ctimeMs`): a write, a rename, or a new file that reuses the inode. */
  changedMs: number;
}

/**
 * The regular files of `dir` that are read, each rotation set oldest first;
 * `undefined` when the directory does not exist (yet: the writer makes it on
 * its first line; or a volume is not mounted), which says nothing of its files. A file that vanishes between `readdir` and `stat` is left out;
 * `onError` gets other per-file errors (the file is left out for this scan),
 * without it they reject.
 *
 * @example
 * ```ts
 * const files = await discoverLogFiles(dir, (error, path) => log.error("Cannot stat {path}", { path, error }));
 * ```
 */
export async function discoverLogFiles(
  dir: string,
  onError?: (error: unknown, path: string) => void,
): Promise<FoundFile[] | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
  const found: FoundFile[] = [];
  for (const name of names.sort(compareLogAge)) {
    const logName = logNameOf(name);
    if (logName === undefined) continue;
    const path = join(dir, name);
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      if (isErrno(error, "ENOENT")) continue;
      if (onError === undefined) throw error;
      onError(error, path);
      continue;
    }
    if (info.isFile()) found.push({ path, set: logName.set, dev: info.dev, ino: info.ino, size: info.size, changedMs: info.ctimeMs });
  }
  return found;
}

/**
 * Whether `error` is a system error with this `code` (`ENOENT`, …).
 *
 * @example
 * ```ts
 * isErrno(Object.assign(new Error("gone"), { code: "ENOENT" }), "ENOENT"); // true
 * ```
 */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
