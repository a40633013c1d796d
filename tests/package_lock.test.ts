// package-lock.json as `npm install` leaves it, so a fresh clone stays clean
// and `npm ci` accepts it: the lock's root agrees with package.json, and it
// lists every optional dependency a locked package declares (npm install
// adds the missing ones, Deno's binaries for other platforms among them).
// Measured once on this machine in a scratch copy: `npm install` left this
// lock byte for byte, and `npm ci` then installed from it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { lockfileVersion: number; packages: Record<string, LockPackage> };
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as LockPackage;

/** Where npm would find `name` for the package at `from`: its own node_modules, then each parent's. */
function resolve(from: string, name: string): LockPackage | undefined {
  for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf("/node_modules/")))) {
    const found = lock.packages[`${base === "" ? "" : `${base}/`}node_modules/${name}`];
    if (found || base === "") return found;
  }
}

describe("package-lock.json", () => {
  it("agrees with package.json (what npm ci checks)", () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages[""]!.dependencies).toEqual(manifest.dependencies);
    expect(lock.packages[""]!.devDependencies).toEqual(manifest.devDependencies);
    for (const [name, version] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      expect(resolve("", name)?.version, name).toBe(version);
    }
  });

  it("lists every optional dependency of a locked package, for every platform", () => {
    const missing = Object.entries(lock.packages).flatMap(([path, pkg]) =>
      Object.keys(pkg.optionalDependencies ?? {}).filter((name) => resolve(path, name) === undefined).map((name) => `${path} -> ${name}`)
    );
    expect(missing, "run npm install and commit the lock it leaves").toEqual([]);
    expect(Object.keys(lock.packages).filter((p) => p.startsWith("node_modules/@deno/")).length).toBe(6);
  });
});
