import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DENO, ROOT } from "./harness.ts";

// The same sources must type-check for Node (tsc) and for Deno (deno check).
describe("type checks", () => {
  it("tsc --noEmit passes", () => {
    const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], { cwd: ROOT, encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 120_000);

  it("deno check passes", () => {
    const deno = spawnSync(DENO, ["check", "handlers", "lib", "workers", "commands", "tools", "bench", "clients"], { cwd: ROOT, encoding: "utf8" });
    expect(deno.stderr).not.toContain("ERROR");
    expect(deno.status).toBe(0);
  }, 120_000);
});
