import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recount } from "../../tools/recount.ts";
import { createIngestState } from "../../lib/etl/state.ts";
import {
  type Checkpoint,
  CHECKPOINT_VERSION,
  CheckpointSchema,
  IngestStateSchema,
  loadCheckpoint,
  parseCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from "./checkpoint.ts";

const LINES = [
  '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"etl_started","pipeline":"orders"}',
  '{"v":1,"ts":"2026-11-23T10:00:01.000Z","level":"info","event":"file_processed","pipeline":"orders","file":"a.csv","records":12,"duration_ms":1200}',
  '{"v":1,"ts":"2026-11-23T10:00:02.000Z","level":"error","event":"file_failed","pipeline":"orders","file":"b.csv","error_type":"odd_error","records":3,"duration_ms":40,"message":"x"}',
  "garbage",
].join("\n") + "\n";

function sample(): Checkpoint {
  return {
    checkpointVersion: CHECKPOINT_VERSION,
    savedAtMs: 1_790_000_000_000,
    state: recount(LINES, { maxLineBytes: 4096 }),
    files: { "/var/log/etl/orders.log": { ino: 1234, dev: 2049, fingerprint: "eyJ2IjoxfQo=", offset: 4096, size: 4200 } },
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "checkpoint-test-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("writeCheckpoint / readCheckpoint", () => {
  it("round-trips a checkpoint", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    const checkpoint = sample();
    expect(checkpoint.state.pipelines.orders?.errorsByType.odd_error).toBe(1);
    await writeCheckpoint(path, checkpoint);
    expect(await readCheckpoint(path)).toEqual({ checkpoint });
  });

  it("leaves no temp file behind and replaces the previous checkpoint", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    await writeCheckpoint(path, sample());
    const newer = { ...sample(), savedAtMs: 1_790_000_000_001 };
    await writeCheckpoint(path, newer);
    expect(readdirSync(dir)).toEqual(["exporter-checkpoint.json"]);
    expect((await readCheckpoint(path)).checkpoint?.savedAtMs).toBe(1_790_000_000_001);
  });

  it("serialises at call time, so the caller may change the state right after", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    const checkpoint = sample();
    const writing = writeCheckpoint(path, checkpoint);
    checkpoint.state.lines.parsed += 100;
    checkpoint.files["/var/log/etl/orders.log"]!.offset = 0;
    await writing;
    const { checkpoint: read } = await readCheckpoint(path);
    expect(read).toEqual(sample());
  });

  it("keeps a whole checkpoint under concurrent writes", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeCheckpoint(path, { ...sample(), savedAtMs: i })));
    const { checkpoint } = await readCheckpoint(path);
    expect(checkpoint?.state).toEqual(sample().state);
    expect(readdirSync(dir)).toEqual(["exporter-checkpoint.json"]);
  });

  it("cleans up its temp file when the rename fails", async () => {
    const path = join(dir, "in-the-way");
    mkdirSync(join(path, "child"), { recursive: true });
    await expect(writeCheckpoint(path, sample())).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["in-the-way"]);
  });

  it("fails loudly when the directory does not exist", async () => {
    await expect(writeCheckpoint(join(dir, "missing", "c.json"), sample())).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reads a version 1 checkpoint: positions without fingerprint (matched by inode), durations made whole microseconds", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    // Version 1 kept durations as float seconds (sum) and milliseconds (window).
    const state = sample().state as unknown as { stateVersion: number; pipelines: Record<string, Record<string, unknown>> };
    state.stateVersion = 1;
    for (const p of Object.values(state.pipelines)) {
      p.durationSumSeconds = (p.durationSumUs as number) / 1e6;
      delete p.durationSumUs;
      p.window = (p.window as { durationUs: number }[]).map(({ durationUs, ...slot }) => ({ ...slot, durationMs: durationUs / 1000 }));
    }
    const v1 = { ...sample(), checkpointVersion: 1, state, files: { "/var/log/etl/orders.log": { ino: 1234, dev: 2049, offset: 4096 } } };
    writeFileSync(path, JSON.stringify(v1));
    const { checkpoint, problem } = await readCheckpoint(path);
    expect(problem).toBeUndefined();
    expect(checkpoint).toEqual({
      ...sample(),
      files: { "/var/log/etl/orders.log": { ino: 1234, dev: 2049, fingerprint: "", offset: 4096, size: 4096 } },
    });
  });

  it("gives nothing, without a problem, for a missing file", async () => {
    expect(await readCheckpoint(join(dir, "none.json"))).toEqual({ checkpoint: undefined });
  });

  it.each([
    ["empty file", "", /not valid JSON/],
    ["cut short", JSON.stringify(sample()).slice(0, 100), /not valid JSON/],
    ["not an object", "[1,2]", /no checkpointVersion/],
    ["newer version", JSON.stringify({ ...sample(), checkpointVersion: 3 }), /checkpoint version 3 is not supported/],
    [
      "other state version",
      JSON.stringify({ ...sample(), state: { ...sample().state, stateVersion: 0 } }),
      /state version 0 is not supported/,
    ],
    ["no state", JSON.stringify({ ...sample(), state: undefined }), /checkpoint is invalid: state/],
    [
      "negative offset",
      JSON.stringify({ ...sample(), files: { "a.log": { ino: 1, dev: 1, fingerprint: "", offset: -1, size: 0 } } }),
      /checkpoint is invalid: files\.a\.log\.offset/,
    ],
    [
      "bad pipeline name",
      JSON.stringify({ ...sample(), state: { ...sample().state, pipelines: { __proto__x: sample().state.pipelines.orders } } }),
      /checkpoint is invalid: state\.pipelines/,
    ],
    [
      "short histogram",
      JSON.stringify(
        (() => {
          const c = sample();
          c.state.pipelines.orders!.durationBucketCounts.pop();
          return c;
        })(),
      ),
      /durationBucketCounts/,
    ],
  ])("reports a %s as a problem, without throwing", async (_name, text, problem) => {
    const path = join(dir, "exporter-checkpoint.json");
    writeFileSync(path, text);
    const result = await readCheckpoint(path);
    expect(result.checkpoint).toBeUndefined();
    expect(result.problem).toMatch(problem);
  });

  it("does not let a '__proto__' key reach the state", () => {
    const json = `{"checkpointVersion":1,"savedAtMs":1,"files":{},"state":${JSON.stringify(createIngestState()).replace(
      '"pipelines":{}',
      `"pipelines":{"__proto__":${JSON.stringify(sample().state.pipelines.orders)}}`,
    )}}`;
    const pipelines = parseCheckpoint(json).checkpoint?.state.pipelines ?? {};
    // Either refused or dropped (zod skips the key), never turned into a prototype.
    expect(Object.getPrototypeOf(pipelines)).toBe(Object.prototype);
    expect(Object.keys(pipelines)).toEqual([]);
  });
});

describe("loadCheckpoint", () => {
  it("loads a checkpoint within the size bound as readCheckpoint does", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    await writeCheckpoint(path, sample());
    expect(await loadCheckpoint(path, 1 << 20)).toEqual({ checkpoint: sample() });
    expect(await loadCheckpoint(join(dir, "none.json"), 1 << 20)).toEqual({ checkpoint: undefined });
  });

  it("does not parse a file over the bound: moves it aside as .corrupt, so a restart does not fail the same way", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    await writeCheckpoint(path, sample());
    const size = readFileSync(path).length;
    const result = await loadCheckpoint(path, size - 1);
    expect(result).toEqual({
      checkpoint: undefined,
      problem: `checkpoint is ${size} bytes, more than the ${size - 1} the limits allow`,
      movedTo: `${path}.corrupt`,
    });
    expect(readdirSync(dir)).toEqual(["exporter-checkpoint.json.corrupt"]);
    expect(await loadCheckpoint(path, size)).toEqual({ checkpoint: undefined });
  });

  it("moves an unreadable checkpoint aside too, replacing an older one", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    writeFileSync(`${path}.corrupt`, "older");
    writeFileSync(path, "{cut short");
    const result = await loadCheckpoint(path, 1 << 20);
    expect(result.problem).toMatch(/not valid JSON/);
    expect(readFileSync(`${path}.corrupt`, "utf8")).toBe("{cut short");
    expect(readdirSync(dir)).toEqual(["exporter-checkpoint.json.corrupt"]);
  });

  it("reads a checkpoint written before lines were dropped by limit", async () => {
    const path = join(dir, "exporter-checkpoint.json");
    const old = sample() as { state: Partial<Checkpoint["state"]> };
    delete old.state.dropped;
    writeFileSync(path, JSON.stringify(old));
    expect((await loadCheckpoint(path, 1 << 20)).checkpoint?.state.dropped).toEqual({ pipeline_limit: 0, clock_ahead: 0, too_old: 0 });
  });
});

describe("schemas", () => {
  it("accept the states the reducer makes", () => {
    expect(IngestStateSchema.safeParse(createIngestState()).success).toBe(true);
    expect(IngestStateSchema.safeParse(sample().state).success).toBe(true);
    expect(CheckpointSchema.safeParse(JSON.parse(JSON.stringify(sample()))).success).toBe(true);
  });
});
