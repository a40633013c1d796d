/**
 * One writer per log file. A simulator claims `<file>.lock` (holding its
 * pid) beside each log it appends to, so a second one (`--events` while
 * `npm run dev` runs) is refused instead of mixing its events into a live
 * pipeline's log. The exporter reads only `*.log`, so the locks are never read as logs.
 *
 * @example
 * ```ts
 * import { claimLogFiles } from "./log_lock.ts";
 * const claim = claimLogFiles(["data/logs/etl.log"]);
 * if (!claim.ok) throw new Error(claim.message);
 * claim.release(); // also done at exit
 * ```
 * @module
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";

/** The files claimed, or why not (and nothing claimed). */
export type LogClaim = { ok: true; locks: string[]; release(): void } | { ok: false; message: string };

/**
 * Claims every file or none. A lock whose process is gone (killed with
 * SIGKILL, say) is taken over; so is one holding this process's own pid, as
 * a restarted container's process often has the pid its previous life had.
 */
export function claimLogFiles(files: readonly string[], pid: number = process.pid): LogClaim {
  const locks: string[] = [];
  const release = () => {
    for (const lock of locks.splice(0)) {
      if (ownerOf(lock) === pid) unlinkSync(lock);
    }
  };
  for (const file of files) {
    const lock = `${file}.lock`;
    mkdirSync(dirname(lock), { recursive: true });
    const owner = take(lock, pid);
    if (owner !== undefined) {
      release();
      return {
        ok: false,
        message: `${file} is being written by a running simulator (pid ${owner}, see ${lock}): ` +
          "stop it first, or give this one another --data-dir",
      };
    }
    locks.push(lock);
  }
  process.once("exit", release);
  return { ok: true, locks: [...locks], release };
}

/** Writes the lock, or answers the pid of the live process that holds it. */
function take(lock: string, pid: number): number | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lock, `${pid}\n`, { flag: "wx" });
      return undefined;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const owner = ownerOf(lock);
    if (owner !== undefined && owner !== pid && isAlive(owner)) return owner;
    // Stale: removed, then taken again with "wx", so two simulators racing for it cannot both win.
    try {
      unlinkSync(lock);
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
  }
  return ownerOf(lock) ?? -1;
}

function ownerOf(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as { code?: string }).code === "EPERM";
  }
}
