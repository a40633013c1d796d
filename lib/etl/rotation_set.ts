/**
 * Which file names of a log directory the exporter reads, and in which
 * order: each `<name>.log` with its rotation set (`<name>.log.1`,
 * `<name>.log.2`, `<name>.log-20261201`, …), never compressed rotations
 * (`.gz`, `.zst`, `.bz2`, `.xz`), which hold bytes already read as text.
 *
 * The order is oldest first within a set, so that a fresh start reads a
 * log's history in the order it was written: logrotate's numbered names
 * grow older with their number, dated names with an earlier date, and the
 * `<name>.log` itself is the newest.
 *
 * @example
 * ```ts
 * import { compareLogAge, logNameOf } from "./rotation_set.ts";
 * logNameOf("orders.log.2"); // { set: "orders.log", rank: [1, -2, ""] }
 * logNameOf("orders.log.2.gz"); // undefined
 * ["orders.log", "orders.log.1", "orders.log.2"].sort(compareLogAge); // ["orders.log.2", "orders.log.1", "orders.log"]
 * ```
 * @module
 */

/**
 * A file name of a rotation set: the set's `<name>.log`, and a rank that
 * sorts oldest first (see {@linkcode compareLogAge}).
 *
 * @example
 * ```ts
 * const name: LogName = { set: "orders.log", rank: [2, 0, ""] };
 * ```
 */
export interface LogName {
  set: string;
  /** `[kind, number, text]`: dated (0) before numbered (1) before the live file (2). */
  rank: readonly [number, number, string];
}

const COMPRESSED = /\.(gz|zst|bz2|xz|zip|lz4|z)$/i;
const ROTATED = /^(.+\.log)([.-])(.+)$/;

/**
 * The set and age rank of a file name, or `undefined` when the name is not
 * read: neither `*.log` nor a rotation of one, or compressed.
 *
 * @example
 * ```ts
 * logNameOf("orders.log-20261201"); // { set: "orders.log", rank: [0, 0, "20261201"] }
 * logNameOf("notes.txt"); // undefined
 * ```
 */
export function logNameOf(name: string): LogName | undefined {
  if (name.startsWith(".") || COMPRESSED.test(name)) return undefined;
  if (name.endsWith(".log") && name.length > 4) return { set: name, rank: [2, 0, ""] };
  const match = ROTATED.exec(name);
  if (match === null) return undefined;
  const [, set, separator, suffix] = match as unknown as [string, string, string, string];
  if (separator === "." && /^\d{1,9}$/.test(suffix)) return { set, rank: [1, -Number(suffix), ""] };
  // Dated (logrotate's dateext: a date, maybe a time): older when they sort first. A suffix
  // that is no date (`orders.log.lock`, `.bak`, `.swp`) is another program's file, not a rotation.
  if (/^\d/.test(suffix)) return { set, rank: [0, 0, suffix] };
  return undefined;
}

/**
 * Orders two names of the same set oldest first; sets by name.
 *
 * @example
 * ```ts
 * ["a.log", "a.log.1"].sort(compareLogAge); // ["a.log.1", "a.log"]
 * ```
 */
export function compareLogAge(a: string, b: string): number {
  const x = logNameOf(a);
  const y = logNameOf(b);
  if (x === undefined || y === undefined) return a < b ? -1 : a > b ? 1 : 0;
  if (x.set !== y.set) return x.set < y.set ? -1 : 1;
  for (let i = 0; i < 3; i++) {
    const p = x.rank[i]!;
    const q = y.rank[i]!;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}
