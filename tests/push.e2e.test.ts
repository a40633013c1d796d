import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpSink } from "../clients/typescript/http_sink.ts";
import { createEventEmitter } from "../lib/etl/emitter.ts";
import { ingestTokenHash } from "../lib/ingest/token.ts";
import { cleanup, freePort, parseExposition, startWorker, stopWorker, tempDir, waitFor, type Worker } from "./harness.ts";

const dirs: string[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w, "SIGKILL");
  cleanup(dirs.splice(0));
});

const TOKEN = "e2e-push-token-0123456789abcdefghijklmnopqrstu";

/** A batch of file_processed events with ids `<batch>-<i>`, and its record count. */
function batch(n: number, size: number) {
  const events = Array.from({ length: size }, (_, i) => ({
    ts: new Date().toISOString(),
    level: "info",
    pipeline: "pushed",
    event: "file_processed",
    file: `f${n}-${i}.csv`,
    records: n * 10 + i,
    duration_ms: 1,
    event_id: `${n}-${i}`,
  }));
  return { body: events.map((e) => JSON.stringify(e)).join("\n") + "\n", records: events.reduce((s, e) => s + e.records, 0), files: size };
}

describe("push endpoint", () => {
  it("counts every acknowledged event once across a SIGKILL right after a 2xx and a retried batch", async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, "secrets"));
    writeFileSync(join(dir, "secrets/hash"), ingestTokenHash(TOKEN) + "\n");
    const port = await freePort();
    const env = {
      EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_INGEST: "1", ETL_INGEST_TOKEN_FILE: join(dir, "secrets/hash"),
      ETL_CHECKPOINT_SECONDS: "0.3", ETL_POLL_MS: "50",
    };
    const url = `http://127.0.0.1:${port}`;
    const push = (body: string) =>
      fetch(`${url}/api/v1/events`, { method: "POST", body, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/x-ndjson" } });
    const ready = () => waitFor(async () => ((await fetch(`${url}/-/ready`).catch(() => null))?.status === 200 ? true : undefined), 15_000, "ready");
    const acked = { records: 0, files: 0 };

    const first = startWorker("exporter", [], env);
    workers.push(first);
    await ready();
    const unauthorized = await fetch(`${url}/api/v1/events`, { method: "POST", body: batch(0, 1).body, headers: { "Content-Type": "application/x-ndjson" } });
    expect(unauthorized.status).toBe(401);
    expect((await push(batch(0, 1).body)).status).toBe(200);
    acked.records += batch(0, 1).records;
    acked.files += 1;
    for (let n = 1; n <= 6; n++) {
      const b = batch(n, 50);
      const response = await push(b.body);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ accepted: 50, duplicates: 0, rejected: [] });
      acked.records += b.records;
      acked.files += b.files;
    }
    // Killed right after the last 2xx: that batch is on disk but maybe neither read nor checkpointed.
    first.child.kill("SIGKILL");
    await first.exited;

    const second = startWorker("exporter", [], env);
    workers.push(second);
    await ready();
    // The client never saw the answer to batch 6 (a timeout) and sends it again: all duplicates.
    const retry = await push(batch(6, 50).body);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ accepted: 0, duplicates: 50, rejected: [] });
    const last = batch(7, 20);
    expect((await push(last.body)).status).toBe(200);
    acked.records += last.records;
    acked.files += last.files;

    const counters = await waitFor(async () => {
      const m = parseExposition(await (await fetch(`${url}/metrics`)).text());
      const got = { records: m.get('etl_records_total{pipeline="pushed"}'), files: m.get('etl_files_total{pipeline="pushed"}') };
      return got.files === acked.files ? got : undefined;
    }, 15_000, "every acknowledged event counted");
    expect(counters).toEqual(acked);
    // The TypeScript client's run of the same exporter, counted exactly too.
    const sink = createHttpSink({ url: `${url}/api/v1/events`, token: TOKEN, batchSize: 7, flushOnExit: false });
    const etl = createEventEmitter({ pipeline: "ts-job", write: sink.write });
    etl.started();
    for (let i = 0; i < 20; i++) etl.fileProcessed({ file: `t${i}.csv`, records: i, duration_ms: 1 });
    await sink.close();
    const client = await waitFor(async () => {
      const m = parseExposition(await (await fetch(`${url}/metrics`)).text());
      const got = { records: m.get('etl_records_total{pipeline="ts-job"}'), files: m.get('etl_files_total{pipeline="ts-job"}') };
      return got.files === 20 ? got : undefined;
    }, 15_000, "the TypeScript client's run counted");
    expect(client).toEqual({ records: 190, files: 20 });
    // Nothing counted twice, even a little later.
    await new Promise((r) => setTimeout(r, 300));
    const m = parseExposition(await (await fetch(`${url}/metrics`)).text());
    expect(m.get('etl_files_total{pipeline="pushed"}')).toBe(acked.files);
  }, 90_000);

  it("answers 404 when --ingest is off", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const port = await freePort();
    const off = startWorker("exporter", [], { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir });
    workers.push(off);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${url}/-/ready`).catch(() => null))?.status === 200 ? true : undefined), 15_000, "ready");
    expect((await fetch(`${url}/api/v1/events`, { method: "POST", body: "{}" })).status).toBe(404);
  }, 30_000);
});
