import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, ROOT, tempDir } from "./harness.ts";

const dirs: string[] = [];
afterEach(() => cleanup(dirs.splice(0)));

describe("the package entry etl-monitoring-stack/emitter", () => {
  it("is importable with its types by a job outside the repository, and writes the contract", () => {
    execFileSync(process.execPath, ["commands/build/bundle.mjs", "emitter"], { cwd: ROOT });
    execFileSync(process.execPath, ["commands/build/types.mjs"], { cwd: ROOT });
    const job = tempDir("etl-job-");
    dirs.push(job);
    mkdirSync(join(job, "node_modules"));
    symlinkSync(ROOT, join(job, "node_modules/etl-monitoring-stack"));
    writeFileSync(join(job, "package.json"), JSON.stringify({ type: "module" }));
    const source = [
      'import { createEventEmitter, createFileSink, type EtlEvent } from "etl-monitoring-stack/emitter";',
      'const etl = createEventEmitter({ pipeline: "orders", write: createFileSink("logs/orders.log").write });',
      "const event: EtlEvent = etl.fileProcessed({ file: 'a.csv', records: 3, duration_ms: 1 });",
      "console.log(event.event);",
    ].join("\n");
    writeFileSync(join(job, "job.ts"), source);
    writeFileSync(join(job, "job.mjs"), source.replace(", type EtlEvent", "").replace(": EtlEvent", ""));
    writeFileSync(join(job, "tsconfig.json"), JSON.stringify({
      compilerOptions: { module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, skipLibCheck: false, types: [], typeRoots: [join(ROOT, "node_modules/@types")] },
      files: ["job.ts"],
    }));
    const types = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: job, encoding: "utf8" });
    expect(types.stdout + types.stderr).toBe("");
    const run = spawnSync(process.execPath, ["job.mjs"], { cwd: job, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("file_processed\n");
    expect(JSON.parse(readFileSync(join(job, "logs/orders.log"), "utf8"))).toMatchObject({ v: 1, pipeline: "orders", event: "file_processed", records: 3 });
  }, 60_000);
});
