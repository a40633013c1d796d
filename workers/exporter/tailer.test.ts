/**
 * The tailer against the oracle: after every poll its state must equal a
 * recount of everything written to the logs (rotated and truncated parts
 * included), whatever happened to the files and to the tailer in between.
 */
import { spawn } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEventEmitter, type EventEmitter } from "../../lib/etl/emitter.ts";
import { recount } from "../../tools/recount.ts";
import { createIngestState, type IngestState } from "../../lib/etl/state.ts";
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { createTailer, type FilePosition, type Tailer, type TailerOptions } from "./tailer.ts";

const REPO = join(import.meta.dirname, "../..");
const MAX_LINE = 64 * 1024;

/**
 * One log path and everything ever written to it: `segments` holds the
 * content of each file that was at the path, cut where it was truncated.
 */
class Log {
  readonly path: string;
  readonly emitter: EventEmitter;
  readonly segments: string[] = [""];
  #rotations = 0;

  constructor(dir: string, readonly pipeline: string, clock: () => number) {
    this.path = join(dir, `${pipeline}.log`);
    this.emitter = createEventEmitter({ pipeline, write: (line) => this.append(line), clock, runId: `run-${pipeline}` });
  }

  append(text: string): void {
    appendFileSync(this.path, text);
    this.segments[this.segments.length - 1] += text;
  }

  /** Some valid events; every third file fails. */
  events(count: number): void {
    for (let i = 0; i < count; i++) {
      const file = `données-${i}-😀.csv`;
      if (i % 3 === 2) {
        this.emitter.fileFailed({ file, error_type: "disk_full", records: i, duration_ms: 100 * i, message: "no space" });
      } else {
        this.emitter.fileProcessed({ file, records: 10 + i, duration_ms: 1000 + 7 * i });
      }
    }
  }

  /** Rename-style rotation: the file moves to `.log.N`; the next append creates a new one. */
  rotate(): void {
    this.#rotations += 1;
    renameSync(this.path, `${this.path}.${this.#rotations}`);
    this.segments.push("");
  }

  truncate(): void {
    truncateSync(this.path, 0);
    this.segments.push("");
  }

  remove(): void {
    rmSync(this.path);
    this.segments.push("");
  }

  get exists(): boolean {
    return existsSync(this.path);
  }
}

function tickingClock(startMs = Date.parse("2026-11-23T10:00:00.000Z")): () => number {
  let now = startMs;
  return () => (now += 1500);
}

/** The totals the brief names, for a readable diff before the full comparison. */
function summary(state: IngestState) {
  const pipelines: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(state.pipelines)) {
    pipelines[name] = {
      recordsTotal: p.recordsTotal,
      filesTotal: p.filesTotal,
      failuresTotal: p.failuresTotal,
      errorsByType: p.errorsByType,
      durationCount: p.durationCount,
      startsTotal: p.startsTotal,
    };
  }
  return { lines: state.lines, bytesRead: state.bytesRead, pipelines };
}

/**
 * Each log's segments in order: the order the tailer reads them in. Lost
 * bytes (partial lines of removed files) are the rotation property's to check.
 */
function expectRecount(state: IngestState, logs: readonly Log[], maxLineBytes = MAX_LINE): void {
  const expected = recount(logs.flatMap((log) => log.segments), { maxLineBytes });
  expect(summary(state)).toEqual(summary(expected));
  // Same lines in the same order per pipeline: even the sliding window must agree.
  expect({ ...state, bytesLost: 0 }).toEqual(expected);
}

/** A checkpoint exactly as the exporter takes one: state and positions at the same instant. */
function snapshot(tailer: Tailer): Checkpoint {
  return { checkpointVersion: CHECKPOINT_VERSION, savedAtMs: Date.now(), state: tailer.state, files: tailer.positions() };
}

/** Resolves once `done()` holds; fails after 5 s. */
async function waitUntil(done: () => boolean): Promise<void> {
  for (const started = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() - started > 5_000) throw new Error("not within 5 s");
  }
}

let dir: string;
let tailers: Tailer[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tailer-test-"));
  tailers = [];
});

afterEach(async () => {
  for (const tailer of tailers) await tailer.close();
  rmSync(dir, { recursive: true, force: true });
});

function tail(options: Partial<TailerOptions> = {}): Tailer {
  const tailer = createTailer({ dir, state: createIngestState(), maxLineBytes: MAX_LINE, ...options });
  tailers.push(tailer);
  return tailer;
}

describe("tailer", () => {
  it("reads nothing from a missing or empty directory", async () => {
    const tailer = createTailer({ dir: join(dir, "not-yet"), state: createIngestState(), maxLineBytes: MAX_LINE });
    tailers.push(tailer);
    await tailer.poll();
    expect(tailer.state).toEqual(createIngestState());
    expect(tailer.positions()).toEqual({});
  });

  it("holds back a partial last line until its newline arrives", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(3);
    const line = '{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"file_processed","pipeline":"orders","file":"x.csv","records":5,"duration_ms":10}\n';
    log.append(line.slice(0, 40));
    const tailer = tail();
    await tailer.poll();
    expect(tailer.state.lines.parsed).toBe(3);
    const committed = Buffer.byteLength(log.segments[0]!) - 40;
    expect(tailer.positions()[log.path]?.offset).toBe(committed);
    expectRecount(tailer.state, [log]);

    await tailer.poll(); // nothing new: still not counted
    expect(tailer.state.lines.parsed).toBe(3);

    log.append(line.slice(40));
    await tailer.poll();
    await tailer.poll();
    expect(tailer.state.lines.parsed).toBe(4);
    expect(tailer.state.pipelines.orders?.recordsTotal).toBe(10 + 11 + 5 + 2);
    expect(tailer.positions()[log.path]?.offset).toBe(Buffer.byteLength(log.segments[0]!));
    expectRecount(tailer.state, [log]);
  });

  it("counts malformed, schema-invalid and blank lines without stopping", async () => {
    const log = new Log(dir, "orders", tickingClock());
    const seen: string[] = [];
    const tailer = tail({ onLine: (outcome) => seen.push(outcome.result) });
    log.events(2);
    log.append("not json at all\n");
    log.append('{"event":"heartbeat"}\n');
    log.append("\n   \n");
    log.append('{"v":1,"ts":"2026-11-23T10:00:00.000Z","level":"info","event":"file_processed","pipeline":"Orders!","file":"a","records":1,"duration_ms":1}\n');
    log.append("\u0000\u00ff{]\n");
    await tailer.poll();
    log.events(2);
    log.append('{"truncated": \r\n');
    await tailer.poll();
    expect(tailer.state.lines).toEqual({ parsed: 4, malformed: 3, rejected: 2, too_long: 0 });
    expect(seen.filter((r) => r === "blank")).toHaveLength(2);
    expectRecount(tailer.state, [log]);
  });

  it("skips an over-long line once, with bounded memory, and reads on after it", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(2);
    const piece = "x".repeat(1024 * 1024);
    const tailer = tail({ maxLineBytes: MAX_LINE });
    // 32 MiB without a newline yet: nothing is counted and the offset stays at the line's start.
    for (let i = 0; i < 32; i++) log.append(piece);
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 1);
    try {
      await tailer.poll();
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(16 * 1024 * 1024);
    expect(tailer.state.lines.too_long).toBe(0);
    const lineStart = Buffer.byteLength(log.segments[0]!) - 32 * piece.length;
    expect(tailer.positions()[log.path]?.offset).toBe(lineStart);

    log.append("tail of the long line\n");
    log.events(3);
    await tailer.poll();
    expect(tailer.state.lines).toEqual({ parsed: 5, malformed: 0, rejected: 0, too_long: 1 });
    expectRecount(tailer.state, [log], MAX_LINE);
  });

  it("follows a rotation by rename and reads the old file's unread tail first", async () => {
    const log = new Log(dir, "orders", tickingClock());
    const tailer = tail();
    log.events(4); // A
    await tailer.poll();
    log.events(5); // B: written, not yet read
    log.rotate();
    log.events(6); // C, in a new orders.log
    await tailer.poll();
    expect(tailer.state.lines.parsed).toBe(15);
    expect(tailer.stats.rotations).toBe(1);
    // The rotated file stays known (by identity) while it is in the directory.
    expect(Object.keys(tailer.positions())).toEqual([`${log.path}.1`, log.path]);
    expectRecount(tailer.state, [log]);
  });

  it("drains a rotated file whose new file is not there yet", async () => {
    const log = new Log(dir, "orders", tickingClock());
    const tailer = tail();
    log.events(2);
    await tailer.poll();
    log.events(2);
    log.rotate();
    await tailer.poll();
    expect(Object.keys(tailer.positions())).toEqual([`${log.path}.1`]);
    log.events(3);
    await tailer.poll();
    expect(tailer.state.lines.parsed).toBe(7);
    expectRecount(tailer.state, [log]);
  });

  it("drains a deleted file through its open handle", async () => {
    const log = new Log(dir, "orders", tickingClock());
    const tailer = tail();
    log.events(2);
    await tailer.poll();
    log.events(3);
    log.remove();
    await tailer.poll();
    expect(tailer.state.lines.parsed).toBe(5);
    expect(tailer.positions()).toEqual({});
    expectRecount(tailer.state, [log]);
  });

  it("keeps reading a file renamed to another *.log name", async () => {
    const log = new Log(dir, "orders", tickingClock());
    const tailer = tail();
    log.events(2);
    await tailer.poll();
    log.events(2);
    const moved = join(dir, "orders-old.log");
    renameSync(log.path, moved);
    await tailer.poll();
    appendFileSync(moved, "not json\n");
    await tailer.poll();
    expect(tailer.state.lines).toMatchObject({ parsed: 4, malformed: 1 });
    expect(Object.keys(tailer.positions())).toEqual([moved]);
  });

  it("starts over after a copytruncate", async () => {
    const log = new Log(dir, "orders", tickingClock());
    const tailer = tail();
    log.events(5); // A
    log.append('{"partial":');
    await tailer.poll();
    log.truncate();
    log.events(2); // B, shorter than A
    await tailer.poll();
    expect(tailer.stats.truncations).toBe(1);
    expect(tailer.state.lines.parsed).toBe(7);
    expect(tailer.state.lines.malformed).toBe(0);
    expectRecount(tailer.state, [log]);
  });

  it("reads several logs, each at its own pace, in small chunks", async () => {
    const clock = tickingClock();
    const logs = [new Log(dir, "orders", clock), new Log(dir, "billing", clock), new Log(dir, "a-b_c", clock)];
    writeFileSync(join(dir, "notes.txt"), "not a log\n");
    mkdirSync(join(dir, "folder.log"));
    const tailer = tail({ chunkBytes: 7 });
    for (let round = 0; round < 4; round++) {
      logs.forEach((log, i) => log.events(round + i));
      await tailer.poll();
      expectRecount(tailer.state, logs);
    }
    expect(Object.keys(tailer.positions()).sort()).toEqual(logs.map((l) => l.path).sort());
  });

  it("serialises concurrent polls so no line is read twice", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(5);
    const tailer = tail({ chunkBytes: 64 });
    await tailer.poll();
    log.events(50);
    await Promise.all([tailer.poll(), tailer.poll(), tailer.poll()]);
    expectRecount(tailer.state, [log]);
  });

  it("reports per-file errors to onError and goes on with the other files", async () => {
    const clock = tickingClock();
    const good = new Log(dir, "good", clock);
    good.events(2);
    // A symlink loop fails to stat with ELOOP, even for root (unlike a chmod 000 file).
    const loop = join(dir, "loop.log");
    symlinkSync(loop, loop);
    const errors: { file: string; code: unknown }[] = [];
    const tailer = tail({ onError: (error, file) => errors.push({ file, code: (error as { code?: unknown }).code }) });
    await tailer.poll();
    expect(errors).toEqual([{ file: loop, code: "ELOOP" }]);
    expect(tailer.state.lines.parsed).toBe(2);
    rmSync(loop);
    good.events(1);
    await tailer.poll();
    expect(errors).toHaveLength(1);
    expectRecount(tailer.state, [good]);
  });

  it("rejects the poll on a file error when there is no onError", async () => {
    const loop = join(dir, "loop.log");
    symlinkSync(loop, loop);
    await expect(tail().poll()).rejects.toMatchObject({ code: "ELOOP" });
  });

  it("stops its run loop when aborted", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(3);
    const tailer = tail();
    const stop = new AbortController();
    const running = tailer.run(stop.signal, 5);
    await new Promise((resolve) => setTimeout(resolve, 30));
    log.events(2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    stop.abort();
    await running;
    expectRecount(tailer.state, [log]);
  });

  it("is woken by the file system: a line shows long before the next poll", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(1);
    const tailer = tail();
    const stop = new AbortController();
    // An hour between polls: only a change notification can read the next lines.
    const running = tailer.run(stop.signal, 3_600_000);
    try {
      await waitUntil(() => tailer.state.lines.parsed === 1);
      log.events(2);
      await waitUntil(() => tailer.state.lines.parsed === 3);
      log.rotate();
      log.events(1);
      await waitUntil(() => tailer.state.lines.parsed === 4);
    } finally {
      stop.abort();
      await running;
    }
    expectRecount(tailer.state, [log]);
  });

  it("rejects bad sizes", () => {
    expect(() => createTailer({ dir, state: createIngestState(), maxLineBytes: 0 })).toThrow(RangeError);
    expect(() => createTailer({ dir, state: createIngestState(), maxLineBytes: 10, chunkBytes: 0.5 })).toThrow(RangeError);
  });
});

describe("tailer restarted from a checkpoint", () => {
  const checkpointPath = (): string => join(dir, "exporter-checkpoint.json");

  async function restart(): Promise<Tailer> {
    const { checkpoint, problem } = await readCheckpoint(checkpointPath());
    expect(problem).toBeUndefined();
    return tail({ state: checkpoint!.state, positions: checkpoint!.files });
  }

  it("resumes at the saved offsets", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(3);
    log.append('{"v":1,"ts"');
    const first = tail();
    await first.poll();
    await writeCheckpoint(checkpointPath(), snapshot(first));
    log.append(':"2026-11-23T10:00:00.000Z"}\n');
    log.events(2);
    const second = await restart();
    expect(second.positions()).toEqual(first.positions()); // before its first poll too
    await second.poll();
    expectRecount(second.state, [log]);
  });

  it("does not count twice what was read after the checkpoint (killed before the next one)", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(3);
    const first = tail();
    await first.poll();
    await writeCheckpoint(checkpointPath(), snapshot(first));
    log.events(4);
    await first.poll(); // read, but never checkpointed: lost with the process
    expect(first.state.lines.parsed).toBe(7);
    const second = await restart();
    await second.poll();
    expectRecount(second.state, [log]);
  });

  it("restores exactly from a checkpoint taken at any moment of a poll", async () => {
    const clock = tickingClock();
    const logs = [new Log(dir, "orders", clock), new Log(dir, "billing", clock)];
    logs[0]!.events(6);
    const first = tail({ chunkBytes: 100 });
    await first.poll();
    logs[0]!.events(6);
    logs[0]!.rotate();
    logs[0]!.events(6);
    logs[1]!.events(6);
    const polling = first.poll();
    const snapshots: Checkpoint[] = [];
    let done = false;
    void polling.then(() => (done = true));
    while (!done) {
      snapshots.push(structuredClone(snapshot(first)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await polling;
    expect(snapshots.length).toBeGreaterThan(10);
    for (const saved of snapshots) {
      const restored = tail({ state: saved.state, positions: saved.files });
      await restored.poll();
      expectRecount(restored.state, logs);
    }
  });

  it("finds a file rotated while it was down and reads its tail before the new file", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(3);
    const first = tail();
    await first.poll();
    await writeCheckpoint(checkpointPath(), snapshot(first));
    log.events(2); // tail of the old file, unread
    log.rotate();
    log.events(4);
    const second = await restart();
    await second.poll();
    expect(second.stats).toEqual({ rotations: 1, truncations: 0, restoreMisses: 0 });
    expectRecount(second.state, [log]);
  });

  it("starts at 0 when the file is now shorter than the saved offset", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(5);
    const first = tail();
    await first.poll();
    const saved = snapshot(first);
    log.truncate();
    log.events(1);
    const second = tail({ state: structuredClone(saved.state), positions: saved.files });
    await second.poll();
    expect(second.stats.truncations).toBe(1);
    expectRecount(second.state, [log]);
  });

  it("counts a saved file that is gone as a miss and reads what is there", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(2);
    const first = tail();
    await first.poll();
    const saved = snapshot(first);
    log.remove();
    log.events(3);
    const second = tail({ state: structuredClone(saved.state), positions: saved.files });
    await second.poll();
    expect(second.stats.restoreMisses).toBe(1);
    expectRecount(second.state, [log]);
  });

  it("matches saved paths by file name, whatever the directory was called", async () => {
    const log = new Log(dir, "orders", tickingClock());
    log.events(2);
    const first = tail();
    await first.poll();
    const saved = snapshot(first);
    log.events(1);
    const files: Record<string, FilePosition> = {};
    for (const [path, position] of Object.entries(saved.files)) files[path.replace(dir, `${dir}/./`)] = position;
    const second = tail({ state: structuredClone(saved.state), positions: files });
    await second.poll();
    expectRecount(second.state, [log]);
  });

  it("survives SIGKILL of a process that tails and checkpoints in a loop", async () => {
    const deno = join(REPO, "node_modules/.bin/deno");
    if (!existsSync(deno)) return;
    const log = new Log(dir, "orders", tickingClock());
    const child = `
      import { createTailer } from "./workers/exporter/tailer.ts";
      import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint } from "./workers/exporter/checkpoint.ts";
      import { createIngestState } from "./lib/etl/state.ts";
      const dir = ${JSON.stringify(dir)};
      const path = ${JSON.stringify(checkpointPath())};
      const { checkpoint } = await readCheckpoint(path);
      const tailer = createTailer({ dir, state: checkpoint?.state ?? createIngestState(), positions: checkpoint?.files, maxLineBytes: ${MAX_LINE}, chunkBytes: 256 });
      console.log("ready");
      for (;;) {
        await tailer.poll();
        await writeCheckpoint(path, { checkpointVersion: CHECKPOINT_VERSION, savedAtMs: Date.now(), state: tailer.state, files: tailer.positions() });
      }
    `;
    for (let life = 0; life < 4; life++) {
      const proc = spawn(deno, ["eval", "--ext=ts", child], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
      const exited = new Promise((resolve) => proc.on("exit", resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          proc.stdout.once("data", () => resolve());
          proc.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
        });
        for (let burst = 0; burst < 10; burst++) {
          log.events(20);
          log.append('{"v":1,');
          if (burst === 5 && life % 2 === 1) log.rotate();
          await new Promise((resolve) => setTimeout(resolve, 5 + ((life * 7 + burst * 3) % 11)));
          log.append('"half":true}\n');
        }
      } finally {
        // Also when the test fails: the child loops forever.
        proc.kill("SIGKILL");
        await exited;
      }
    }
    // The killed children got somewhere: their last checkpoint has lines in it.
    expect((await readCheckpoint(checkpointPath())).checkpoint?.state.lines.parsed).toBeGreaterThan(0);
    const last = await restart();
    await last.poll();
    expectRecount(last.state, [log]);
  }, 60_000);
});

/** Operations of the property test. */
type Op =
  | { kind: "events"; log: number; count: number }
  | { kind: "bad"; log: number; variant: "malformed" | "rejected" | "blank" | "too_long" | "crlf" }
  | { kind: "partial"; log: number; cut: number }
  | { kind: "poll" }
  | { kind: "checkpointDuringPoll"; turns: number; thenRestart: boolean }
  | { kind: "rotate"; log: number }
  | { kind: "truncate"; log: number }
  | { kind: "remove"; log: number }
  | { kind: "checkpoint" }
  | { kind: "restart" };

const opArbitrary = (logs: number): fc.Arbitrary<Op> => {
  const log = fc.integer({ min: 0, max: logs - 1 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("events" as const), log, count: fc.integer({ min: 1, max: 4 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("bad" as const),
        log,
        variant: fc.constantFrom("malformed" as const, "rejected" as const, "blank" as const, "too_long" as const, "crlf" as const),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("partial" as const), log, cut: fc.double({ min: 0.05, max: 0.95, noNaN: true }) }) },
    { weight: 4, arbitrary: fc.constant({ kind: "poll" as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("checkpointDuringPoll" as const),
        turns: fc.integer({ min: 0, max: 12 }),
        thenRestart: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("rotate" as const), log }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), log }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), log }) },
    { weight: 2, arbitrary: fc.constant({ kind: "checkpoint" as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: "restart" as const }) },
  );
};

/**
 * Runs one sequence against a fresh directory, checking the oracle after
 * every poll. The model knows which restarts a checkpoint can honour
 * exactly (see the tailer's known limits) and takes a fresh checkpoint
 * before restarting when the last one cannot.
 */
async function runScenario(ops: readonly Op[], maxLineBytes: number, chunkBytes: number): Promise<void> {
  const root = mkdtempSync(join(dir, "case-"));
  const logDir = join(root, "logs");
  mkdirSync(logDir);
  const checkpointPath = join(root, "checkpoint.json");
  const clock = tickingClock();
  const logs = [new Log(logDir, "alpha", clock), new Log(logDir, "beta", clock)];
  const open: Tailer[] = [];
  const newTailer = (state: IngestState, positions?: Record<string, FilePosition>): Tailer => {
    const tailer = createTailer({ dir: logDir, state, positions, maxLineBytes, chunkBytes });
    open.push(tailer);
    return tailer;
  };
  let tailer = newTailer(createIngestState());

  /** Whether the current tailer has the file now at each path open (rotate and remove need it). */
  const opened = logs.map(() => false);
  /** Per log: files that replaced the one at its path since the checkpoint, and whether the checkpoint knew it. */
  let replacedSince = logs.map(() => 0);
  let knownAtCheckpoint = logs.map(() => false);
  let destroyedSince = false;
  let hasCheckpoint = false;
  const remainders = logs.map(() => "");
  let unique = 0;

  const poll = async (): Promise<void> => {
    await tailer.poll();
    logs.forEach((log, i) => (opened[i] = log.exists));
    expectRecount(tailer.state, logs, maxLineBytes);
    expect(tailer.stats.restoreMisses).toBe(0);
  };
  const checkpoint = async (): Promise<void> => {
    await writeCheckpoint(checkpointPath, snapshot(tailer));
    hasCheckpoint = true;
    replacedSince = logs.map(() => 0);
    knownAtCheckpoint = logs.map((log, i) => log.exists && opened[i]!);
    destroyedSince = false;
  };
  /** Replaces the tailer by one restored from the last checkpoint, as after a SIGKILL. */
  const restart = async (): Promise<void> => {
    const honourable = hasCheckpoint && !destroyedSince && replacedSince.every((n) => n <= 1);
    if (!honourable) await checkpoint();
    await tailer.close();
    const { checkpoint: saved, problem } = await readCheckpoint(checkpointPath);
    expect(problem).toBeUndefined();
    tailer = newTailer(saved!.state, saved!.files);
    opened.fill(false);
  };
  const write = (i: number, text: string): void => {
    const log = logs[i]!;
    log.append(remainders[i]! + text);
    remainders[i] = "";
  };

  for (const op of ops) {
    switch (op.kind) {
      case "events": {
        write(op.log, "");
        logs[op.log]!.events(op.count);
        break;
      }
      case "bad": {
        // Each unlike any other from its first bytes on (see the partial line below).
        const n = ++unique;
        const text = {
          malformed: `{"n":${n},"v":1,"ts":\n`,
          rejected: `{"n":${n},"event":"heartbeat","pipeline":"alpha"}\n`,
          blank: "  \n",
          too_long: `${n}:${"é".repeat(maxLineBytes)}\n`,
          crlf: `{"v":1,"ts":"${new Date(clock()).toISOString()}","level":"info","event":"heartbeat","pipeline":"alpha"}\r\n`,
        }[op.variant];
        write(op.log, text);
        break;
      }
      case "partial": {
        // Half of a valid line now, the rest with the log's next write, which may open a new
        // file. Files are told apart by their first 64 bytes (the README's known limits): no
        // 64 bytes of this line, or of its tail and what follows, are without a unique value.
        const n = ++unique;
        const line = `{"v":1,"ts":"${new Date(clock()).toISOString()}","file":"ß-${n}.csv","records":${n},"level":"info","pipeline":"${logs[op.log]!.pipeline}","duration_ms":${n},"event":"file_processed"}\n`;
        const cut = Math.max(1, Math.floor(line.length * op.cut));
        write(op.log, line.slice(0, cut));
        remainders[op.log] = line.slice(cut);
        break;
      }
      case "poll":
        await poll();
        break;
      case "checkpointDuringPoll": {
        // State and positions must agree at any await inside a poll, not only between polls.
        const polling = poll();
        for (let i = 0; i < op.turns; i++) await new Promise((resolve) => setImmediate(resolve));
        const saved = structuredClone(snapshot(tailer));
        await polling;
        await writeCheckpoint(checkpointPath, saved);
        hasCheckpoint = true;
        replacedSince = logs.map(() => 0);
        // Which files the tailer had opened at that instant is unknown: assume none.
        knownAtCheckpoint = logs.map(() => false);
        destroyedSince = false;
        if (op.thenRestart) await restart();
        break;
      }
      case "rotate":
      case "remove": {
        const log = logs[op.log]!;
        if (!log.exists) break;
        // A file rotated or removed before the tailer ever opened it is beyond any tailer.
        if (!opened[op.log]) await poll();
        if (op.kind === "rotate") {
          log.rotate();
          if (replacedSince[op.log] === 0 && !knownAtCheckpoint[op.log]) destroyedSince = true;
          replacedSince[op.log]! += 1;
        } else {
          log.remove();
          destroyedSince = true;
          // A restart must not come between the removal and the read of the removed file's tail.
          await poll();
        }
        opened[op.log] = false;
        break;
      }
      case "truncate": {
        const log = logs[op.log]!;
        if (!log.exists) break;
        // Copytruncate loses what was not read; and a truncated file that grows past our offset
        // before we look is indistinguishable from one that was appended to.
        await poll();
        log.truncate();
        await poll();
        destroyedSince = true;
        break;
      }
      case "checkpoint":
        await checkpoint();
        break;
      case "restart":
        await restart();
        break;
    }
  }
  // Finish every line, then everything written must have been counted exactly once.
  logs.forEach((_log, i) => write(i, "\n"));
  await poll();
  for (const t of open) await t.close();
}

describe("tailer property", () => {
  it("equals a recount of the logs after any sequence of writes, rotations, truncations and restarts", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArbitrary(2), { minLength: 1, maxLength: 50, size: "max" }),
        fc.constantFrom(150, 400, 4096),
        fc.constantFrom(5, 16, 64, 256, 1 << 20),
        (ops, maxLineBytes, chunkBytes) => runScenario(ops, maxLineBytes, chunkBytes),
      ),
      { numRuns: 100 },
    );
  }, 60_000);
});

/** One file of {@linkcode RotatingLog}: its name while it exists, everything written to it. */
interface ModelFile {
  name: string;
  content: string;
  /** Deleted, or truncated in place (its content then ended). */
  gone: boolean;
}

/**
 * A log with a rotation set, rotated the way logrotate does: numbered
 * (`alpha.log.1`, `.2`, … shifted up) or dated (`beta.log-0001`, …), by
 * rename or by copytruncate. Every file ever made is kept, in the order it
 * was made: the order its content was written in.
 */
class RotatingLog {
  readonly files: ModelFile[] = [];
  readonly emitter: EventEmitter;
  readonly base: string;
  #dated = 0;
  #unique = 0;

  constructor(readonly dir: string, readonly pipeline: string, readonly style: "numbered" | "dated", clock: () => number) {
    this.base = `${pipeline}.log`;
    this.emitter = createEventEmitter({ pipeline, write: (line) => this.append(line), clock, runId: `run-${pipeline}` });
  }

  get live(): ModelFile | undefined {
    return this.files.find((file) => !file.gone && file.name === this.base);
  }

  /** Rotated files present, oldest first. */
  get rotated(): ModelFile[] {
    const rank = (file: ModelFile): number => this.style === "numbered" ? -Number(file.name.slice(this.base.length + 1)) : Number(file.name.slice(this.base.length + 1));
    return this.files.filter((file) => !file.gone && file.name !== this.base).sort((a, b) => rank(a) - rank(b));
  }

  append(text: string): void {
    let file = this.live;
    if (file === undefined) this.files.push((file = { name: this.base, content: "", gone: false }));
    appendFileSync(join(this.dir, this.base), text);
    file.content += text;
  }

  /** Valid events, fractional durations among them; every third file fails. */
  events(count: number): void {
    for (let i = 0; i < count; i++) {
      const n = ++this.#unique;
      if (n % 3 === 2) {
        this.emitter.fileFailed({ file: `f-${n}.csv`, error_type: "disk_full", records: n, duration_ms: 10.25 * n, message: "no space" });
      } else {
        this.emitter.fileProcessed({ file: `f-${n}.csv`, records: 10 + n, duration_ms: 1000.1 + 7 * n });
      }
    }
  }

  /** Lines no other line starts like: a file's first bytes tell it apart. */
  uniqueLine(kind: "event" | "malformed" | "rejected" | "too_long", maxLineBytes: number): string {
    const n = ++this.#unique;
    if (kind === "malformed") return `not json ${this.pipeline} ${n}\n`;
    if (kind === "rejected") return `{"n":${n},"pipeline":"${this.pipeline}","event":"heartbeat"}\n`;
    if (kind === "too_long") return `${this.pipeline}-${n}:${"é".repeat(maxLineBytes)}\n`;
    return "";
  }

  /** The name a file rotated now gets, after the numbered ones moved up. */
  #rotatedName(): string {
    if (this.style === "dated") return `${this.base}-${String(++this.#dated).padStart(4, "0")}`;
    for (const file of this.rotated) {
      const next = `${this.base}.${Number(file.name.slice(this.base.length + 1)) + 1}`;
      renameSync(join(this.dir, file.name), join(this.dir, next));
      file.name = next;
    }
    return `${this.base}.1`;
  }

  rotate(): void {
    const file = this.live;
    if (file === undefined) return;
    const name = this.#rotatedName();
    renameSync(join(this.dir, this.base), join(this.dir, name));
    file.name = name;
  }

  /** Copies the live file to a rotated name and empties it; `between` runs after the copy. */
  async copytruncate(between: () => Promise<void>): Promise<void> {
    const file = this.live;
    if (file === undefined) return;
    const name = this.#rotatedName();
    copyFileSync(join(this.dir, this.base), join(this.dir, name));
    await between();
    truncateSync(join(this.dir, this.base), 0);
    // The copy carries the content written so far; the live file starts empty.
    file.name = name;
    this.files.push({ name: this.base, content: "", gone: false });
  }

  truncate(file: ModelFile): void {
    truncateSync(join(this.dir, file.name), 0);
    file.gone = true;
    this.files.push({ name: this.base, content: "", gone: false });
  }

  remove(file: ModelFile): void {
    rmSync(join(this.dir, file.name));
    file.gone = true;
  }
}

/** Bytes of a file after its last newline: never a line, so lost when the file goes. */
function partialTail(content: string): number {
  return Buffer.byteLength(content.slice(content.lastIndexOf("\n") + 1));
}

type RotationOp =
  | { kind: "events"; log: number; count: number }
  | { kind: "bad"; log: number; variant: "malformed" | "rejected" | "too_long" }
  | { kind: "partial"; log: number; cut: number }
  | { kind: "rotate"; log: number; times: number }
  | { kind: "copytruncate"; log: number; pollBetween: boolean }
  | { kind: "truncate"; log: number }
  | { kind: "removeOldest"; log: number }
  | { kind: "poll" }
  | { kind: "checkpoint" }
  | { kind: "kill" }
  | { kind: "restore" };

const rotationOp: fc.Arbitrary<RotationOp> = (() => {
  const log = fc.integer({ min: 0, max: 1 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("events" as const), log, count: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad" as const), log, variant: fc.constantFrom("malformed" as const, "rejected" as const, "too_long" as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("partial" as const), log, cut: fc.double({ min: 0.05, max: 0.95, noNaN: true }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("rotate" as const), log, times: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("copytruncate" as const), log, pollBetween: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), log }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("removeOldest" as const), log }) },
    { weight: 3, arbitrary: fc.constant({ kind: "poll" as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: "checkpoint" as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: "kill" as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: "restore" as const }) },
  );
})();

/**
 * Runs one sequence; at the end the state must equal a recount of every
 * file ever written (in the order written) and `bytesLost` the bytes after
 * the last newline of every file deleted or truncated. A loss is only
 * knowable up to the size the reader last saw: so a file is deleted (or
 * truncated) only once a checkpoint knows its present size, as logrotate
 * deletes old rotations long after they were read.
 */
async function runRotationScenario(ops: readonly RotationOp[], maxLineBytes: number, chunkBytes: number): Promise<void> {
  const root = mkdtempSync(join(dir, "rotation-"));
  const logDir = join(root, "logs");
  mkdirSync(logDir);
  const checkpointPath = join(root, "checkpoint.json");
  const clock = tickingClock();
  const logs = [new RotatingLog(logDir, "alpha", "numbered", clock), new RotatingLog(logDir, "beta", "dated", clock)];
  const newTailer = (state: IngestState, positions?: Record<string, FilePosition>): Tailer =>
    createTailer({ dir: logDir, state, positions, maxLineBytes, chunkBytes });
  let tailer: Tailer | undefined = newTailer(createIngestState());
  /** Sizes as of the last poll, and as of the poll before the last checkpoint. */
  let polled = new Map<ModelFile, number>();
  let known = new Map<ModelFile, number>();
  const sizeOf = (file: ModelFile): number => Buffer.byteLength(file.content);

  const poll = async (): Promise<void> => {
    if (tailer === undefined) return;
    await tailer.poll();
    polled = new Map(logs.flatMap((log) => log.files.filter((file) => !file.gone)).map((file) => [file, sizeOf(file)]));
  };
  const checkpoint = async (): Promise<void> => {
    if (tailer === undefined) return;
    await writeCheckpoint(checkpointPath, snapshot(tailer));
    known = new Map(polled);
  };
  const restore = async (): Promise<void> => {
    if (tailer !== undefined) return;
    const { checkpoint: saved, problem } = await readCheckpoint(checkpointPath);
    expect(problem).toBeUndefined();
    tailer = newTailer(saved!.state, saved!.files);
    // The restored reader knows what its checkpoint knew, no more.
    polled = new Map(known);
  };
  /** Before a file goes: up and caught up, a checkpoint that knows it; down, only if the last one does. */
  const mayLose = async (file: ModelFile): Promise<boolean> => {
    if (tailer !== undefined) {
      await poll();
      await checkpoint();
    }
    return known.get(file) === sizeOf(file);
  };
  await checkpoint();

  for (const op of ops) {
    switch (op.kind) {
      case "events": {
        logs[op.log]!.events(op.count);
        break;
      }
      case "bad": {
        const log = logs[op.log]!;
        log.append(log.uniqueLine(op.variant, maxLineBytes));
        break;
      }
      case "partial": {
        const log = logs[op.log]!;
        // Starting with its time, and cut after it: files are told apart by their first bytes.
        const line = `{"ts":"${new Date(clock()).toISOString()}","v":1,"level":"info","event":"file_processed","pipeline":"${log.pipeline}","file":"ß.csv","records":3,"duration_ms":50.5}\n`;
        const cut = Math.max(32, Math.floor(line.length * op.cut));
        log.append(line.slice(0, cut));
        break;
      }
      case "rotate":
        for (let i = 0; i < op.times; i++) logs[op.log]!.rotate();
        break;
      case "copytruncate":
        await logs[op.log]!.copytruncate(async () => {
          if (op.pollBetween) await poll();
        });
        break;
      case "truncate": {
        const file = logs[op.log]!.live;
        if (file !== undefined && (await mayLose(file))) logs[op.log]!.truncate(file);
        break;
      }
      case "removeOldest": {
        const file = logs[op.log]!.rotated[0];
        if (file !== undefined && (await mayLose(file))) logs[op.log]!.remove(file);
        break;
      }
      case "poll":
        await poll();
        break;
      case "checkpoint":
        await checkpoint();
        break;
      case "kill":
        // As SIGKILL: no last checkpoint, handles let go.
        await tailer?.close();
        tailer = undefined;
        break;
      case "restore":
        await restore();
        break;
    }
  }
  await restore();
  // Two polls: a file gone from the directory is given up on the second scan that misses it.
  await poll();
  await poll();
  await tailer!.close();

  const written = logs.flatMap((log) => log.files);
  // Files were made one after another across both logs; each pipeline's own order is what counts.
  const expected = recount(written.map((file) => file.content), { maxLineBytes });
  expected.bytesLost = written.filter((file) => file.gone).reduce((sum, file) => sum + partialTail(file.content), 0);
  expect(summary(tailer!.state)).toEqual(summary(expected));
  expect(tailer!.state.bytesLost).toBe(expected.bytesLost);
  expect(tailer!.state).toEqual(expected);
}

describe("reader property: rotation sets, copytruncate, deletion, SIGKILL", () => {
  it("counts every line of every file once, whatever rotated while it read or was down, and exactly the bytes lost", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rotationOp, { minLength: 1, maxLength: 60, size: "max" }),
        fc.constantFrom(150, 4096),
        fc.constantFrom(7, 64, 1 << 20),
        (ops, maxLineBytes, chunkBytes) => runRotationScenario(ops, maxLineBytes, chunkBytes),
      ),
      {
        numRuns: 150,
        // Found by earlier runs: a held copy and its original, both saved, lost while down.
        examples: [
          [[{ kind: "partial", log: 0, cut: 0.05 }, { kind: "copytruncate", log: 0, pollBetween: true }, { kind: "checkpoint" }, { kind: "kill" }, { kind: "removeOldest", log: 0 }], 150, 7],
          [[{ kind: "bad", log: 0, variant: "malformed" }, { kind: "truncate", log: 0 }, { kind: "rotate", log: 0, times: 1 }, { kind: "bad", log: 0, variant: "malformed" }, { kind: "removeOldest", log: 0 }, { kind: "kill" }, { kind: "copytruncate", log: 0, pollBetween: false }, { kind: "restore" }], 150, 7],
        ],
      },
    );
  }, 120_000);
});
