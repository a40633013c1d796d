import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomic_write.ts";

let root = "";
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "atomic-write-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe("writeFileAtomic", () => {
  it("replaces a file whole with the exact mode asked for, leaving no temporary file", async () => {
    const file = join(root, "state.json");
    await writeFile(file, "old");
    await writeFileAtomic(file, "new", { mode: 0o640 });
    expect(await readFile(file, "utf8")).toBe("new");
    expect(await modeOf(file)).toBe(0o640);
    expect(await readdir(root)).toEqual(["state.json"]);
  });

  it("leaves the old content and no temporary file when the rename fails", async () => {
    const target = join(root, "a-folder");
    await mkdir(target);
    await expect(writeFileAtomic(target, "x")).rejects.toThrow();
    expect((await readdir(root)).sort()).toEqual(["a-folder"]);
  });
});
