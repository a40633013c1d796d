import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../tests/harness.ts";
import { capture, captureToFile, feedFromFile, fileDigest, lastLines } from "./run_command.ts";

const NODE = process.execPath;
let dir = "";

beforeAll(() => {
  dir = tempDir("stack-run-");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("running commands", () => {
  it("captures output and exit code, and says when a command is not installed", async () => {
    expect(await capture([NODE, "-e", "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)"], process.env)).toEqual({
      code: 3,
      stdout: "out",
      stderr: "err",
      spawnError: undefined,
    });
    expect(await capture(["no-such-command-here"], process.env)).toEqual({ code: null, stdout: "", stderr: "", spawnError: "ENOENT" });
  });

  it("kills a command that outlives its time", async () => {
    const started = Date.now();
    const result = await capture([NODE, "-e", "setTimeout(() => {}, 60000)"], process.env, 300);
    expect(result.code).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("streams standard output to a file with its size and SHA-256, and back into a command", async () => {
    const file = join(dir, "out.bin");
    const written = await captureToFile([NODE, "-e", "process.stdout.write(Buffer.alloc(200000, 7))"], process.env, file);
    expect(written).toEqual({ bytes: 200_000, sha256: createHash("sha256").update(Buffer.alloc(200_000, 7)).digest("hex") });
    expect(await fileDigest(file)).toEqual(written);
    expect(await fileDigest(join(dir, "missing"))).toBeUndefined();
    const copy = join(dir, "copy.bin");
    await feedFromFile([NODE, "-e", `process.stdin.pipe(require("fs").createWriteStream(${JSON.stringify(copy)}))`], process.env, file);
    expect(await fileDigest(copy)).toEqual(written);
  });

  it("leaves no file behind when the command fails, and quotes its error output", async () => {
    const file = join(dir, "failed.bin");
    await expect(captureToFile([NODE, "-e", "process.stdout.write('half'); console.error('tar: /volume: Cannot open'); process.exit(2)"], process.env, file))
      .rejects.toThrow(/failed \(exit 2\): tar: \/volume: Cannot open$/);
    expect(await fileDigest(file)).toBeUndefined();
    expect(await fileDigest(`${file}.partial`)).toBeUndefined();
    await expect(feedFromFile([NODE, "-e", "console.error('tar: bad'); process.exit(2)"], process.env, join(dir, "copy.bin")))
      .rejects.toThrow(/failed \(exit 2\): tar: bad$/);
  });

  it("keeps the last lines of an output", () => {
    expect(lastLines("a\n\nb\r\nc\n", 2)).toBe("b / c");
    expect(lastLines("\n", 2)).toBe("no output");
  });
});

