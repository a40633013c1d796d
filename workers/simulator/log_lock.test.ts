import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { claimLogFiles } from "./log_lock.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function logs(...names: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "etl-lock-"));
  dirs.push(dir);
  mkdirSync(join(dir, "logs"));
  return names.map((name) => join(dir, "logs", `${name}.log`));
}

describe("claimLogFiles", () => {
  it("writes a lock holding the pid beside each log, and removes it on release", () => {
    const files = logs("orders", "customers");
    const claim = claimLogFiles(files, 4242);
    expect(claim.ok).toBe(true);
    if (!claim.ok) return;
    expect(claim.locks).toEqual(files.map((f) => `${f}.lock`));
    expect(files.map((f) => readFileSync(`${f}.lock`, "utf8"))).toEqual(["4242\n", "4242\n"]);
    claim.release();
    expect(files.map((f) => existsSync(`${f}.lock`))).toEqual([false, false]);
  });

  it("refuses a file a live process holds, and then claims none of them", () => {
    const [free, held] = logs("free", "held") as [string, string];
    // This test's own process is the live owner; the claimer is another pid.
    writeFileSync(`${held}.lock`, `${process.pid}\n`);
    const claim = claimLogFiles([free, held], process.pid + 1);
    expect(claim).toEqual({
      ok: false,
      message: `${held} is being written by a running simulator (pid ${process.pid}, see ${held}.lock): stop it first, or give this one another --data-dir`,
    });
    expect(existsSync(`${free}.lock`)).toBe(false);
    expect(readFileSync(`${held}.lock`, "utf8")).toBe(`${process.pid}\n`);
  });

  it("takes over the lock of a process that is gone, of its own pid, or a garbled one", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = child.pid!;
    await new Promise((r) => child.on("exit", r));
    const [dead, own, garbled] = logs("dead", "own", "garbled") as [string, string, string];
    writeFileSync(`${dead}.lock`, `${deadPid}\n`);
    writeFileSync(`${own}.lock`, "777\n");
    writeFileSync(`${garbled}.lock`, "not a pid");
    const claim = claimLogFiles([dead, own, garbled], 777);
    expect(claim.ok).toBe(true);
    expect([dead, own, garbled].map((f) => readFileSync(`${f}.lock`, "utf8"))).toEqual(["777\n", "777\n", "777\n"]);
  });

  it("leaves a lock alone on release once another process owns it", () => {
    const [file] = logs("etl") as [string];
    const claim = claimLogFiles([file], 5151);
    writeFileSync(`${file}.lock`, "6161\n");
    if (claim.ok) claim.release();
    expect(readFileSync(`${file}.lock`, "utf8")).toBe("6161\n");
  });
});
