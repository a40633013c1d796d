import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// lib/ is the product's pure code: files, sockets, processes and HTTP belong to the edges
// (workers/, commands/, handlers/), which pass lib/ what it needs.
const LIB = fileURLToPath(new URL(".", import.meta.url));
const FORBIDDEN = ["fs", "fs/promises", "net", "child_process", "http", "https"];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !/\.test\.[mc]?[tj]s$/.test(entry.name) ? [path] : [];
  });
}

/** The modules `text` imports, ignoring comments (examples in doc comments may show I/O). */
export function importedModules(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(IMPORT)].map((match) => match[1]!);
}

const isForbidden = (specifier: string) => FORBIDDEN.includes(specifier.replace(/^node:/, ""));

describe("lib/", () => {
  it("finds the imports it checks for, in every form", () => {
    const text = [
      'import { readFile } from "node:fs/promises";',
      "import * as net from 'net';",
      'const { spawn } = await import("node:child_process");',
      'import "node:http";',
      'export { request } from "https";',
      '/** import { x } from "node:fs"; */',
      '// import { y } from "fs";',
      'import { join } from "node:path";',
    ].join("\n");
    expect(importedModules(text).filter(isForbidden)).toEqual(["node:fs/promises", "net", "node:child_process", "node:http", "https"]);
  });

  it("imports no file system, network, process or HTTP module outside its tests", () => {
    const files = sources(LIB);
    expect(files.length).toBeGreaterThan(40);
    const offenders = files.flatMap((file) =>
      importedModules(readFileSync(file, "utf8")).filter(isForbidden).map((module) => `${relative(LIB, file)}: ${module}`)
    );
    expect(offenders).toEqual([]);
  });
});
