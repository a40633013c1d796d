/**
 * The catalog file at the edge: read once at start-up (a bad one stops the
 * exporter with the problems, exit 2), then watched. A changed file that
 * reads well replaces the catalog; one that does not is logged and ignored,
 * and the catalog in force stays.
 *
 * Watching polls the file's size, time and inode: editors and config
 * management replace files by rename, which a watch on the old inode misses.
 *
 * @example
 * ```ts
 * import { readCatalogFile, watchCatalogFile } from "./catalog_file.ts";
 * const first = readCatalogFile("pipelines.yml");
 * if (!first.ok) process.exit(2);
 * const watch = watchCatalogFile("pipelines.yml", 2000, (catalog) => (current = catalog), console.error);
 * ```
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { type Catalog, type CatalogResult, parseCatalog } from "../../lib/catalog/catalog.ts";

/**
 * Reads and checks the catalog file.
 *
 * @example
 * ```ts
 * const result = readCatalogFile("pipelines.yml");
 * if (!result.ok) console.error(result.problems.join("\n"));
 * ```
 */
export function readCatalogFile(path: string): CatalogResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { ok: false, problems: [`cannot read it: ${(error as Error).message}`] };
  }
  return parseCatalog(text);
}

function signature(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return "missing";
  }
}

/** A running watch; `check()` looks at the file now (the timer calls it too). */
export interface CatalogWatch {
  check(): void;
  close(): void;
}

/**
 * Re-reads `path` when it changes, every `intervalMs` at most. `onLoad`
 * gets each good new version; `onProblem` the problems of a bad one (once
 * per version of the file).
 */
export function watchCatalogFile(
  path: string,
  intervalMs: number,
  onLoad: (catalog: Catalog) => void,
  onProblem: (problems: string[]) => void,
): CatalogWatch {
  let seen = signature(path);
  const check = () => {
    const now = signature(path);
    if (now === seen) return;
    seen = now;
    const result = readCatalogFile(path);
    if (result.ok) onLoad(result.catalog);
    else onProblem(result.problems);
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}
