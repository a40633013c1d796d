import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, freePort, parseExposition, startWorker, stopWorker, tempDir, waitFor, type Worker } from "./harness.ts";

const dirs: string[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w, "SIGKILL");
  cleanup(dirs);
});

const heartbeat = (pipeline: string, ts = new Date().toISOString()) =>
  JSON.stringify({ ts, level: "debug", event: "heartbeat", pipeline }) + "\n";

async function metricsOf(url: string): Promise<Map<string, number>> {
  return parseExposition(await (await fetch(`${url}/metrics`)).text());
}

describe("the exporter's limits (bundle)", () => {
  it("tracks at most ETL_MAX_PIPELINES pipelines, counting the lines of the others, in the backlog and when tailing", async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, "logs"));
    const log = join(dir, "logs/etl.log");
    writeFileSync(log, Array.from({ length: 20 }, (_, i) => heartbeat(`run-${i}`)).join(""));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const exporter = startWorker("exporter", [], {
      EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_MAX_PIPELINES: "5", ETL_LOG_LEVEL: "warning",
    });
    workers.push(exporter);
    await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 15_000, "ready");
    let m = await metricsOf(url);
    expect(m.get('etl_exporter_lines_dropped_total{reason="pipeline_limit"}')).toBe(15);

    appendFileSync(
      log,
      heartbeat("run-99") + heartbeat("run-2") + heartbeat("etl", "9999-12-31T23:59:59.999Z") + heartbeat("etl", "1999-12-31T23:59:59.999Z"),
    );
    m = await waitFor(async () => {
      const now = await metricsOf(url);
      return now.get('etl_exporter_log_lines_total{result="parsed"}') === 24 ? now : undefined;
    }, 10_000, "the appended lines");
    expect(m.get('etl_exporter_lines_dropped_total{reason="pipeline_limit"}')).toBe(16);
    expect(m.get('etl_exporter_lines_dropped_total{reason="clock_ahead"}')).toBe(1);
    expect(m.get('etl_exporter_lines_dropped_total{reason="too_old"}')).toBe(1);
    const pipelines = new Set([...m.keys()].flatMap((key) => /^etl_last_event_timestamp_seconds\{pipeline="([^"]+)"\}/.exec(key)?.[1] ?? []));
    expect(pipelines).toEqual(new Set(["run-0", "run-1", "run-2", "run-3", "run-4"]));
    expect(exporter.stderr()).toContain("more than 5 pipelines (raise ETL_MAX_PIPELINES / --max-pipelines)");
  }, 30_000);

  it("always finds room for a cataloged pipeline, however many others took the places first", async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, "logs"));
    writeFileSync(join(dir, "logs/etl.log"), Array.from({ length: 6 }, (_, i) => heartbeat(`run-${i}`)).join("") + heartbeat("nightly"));
    const catalog = join(dir, "pipelines.yml");
    writeFileSync(catalog, "pipelines:\n  nightly:\n    every: 1d\n");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const exporter = startWorker("exporter", [], {
      EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_MAX_PIPELINES: "3", ETL_PIPELINES_FILE: catalog, ETL_LOG_LEVEL: "warning",
    });
    workers.push(exporter);
    await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 15_000, "ready");
    const m = await metricsOf(url);
    const pipelines = new Set([...m.keys()].flatMap((key) => /^etl_last_event_timestamp_seconds\{pipeline="([^"]+)"\}/.exec(key)?.[1] ?? []));
    expect(pipelines).toEqual(new Set(["run-0", "run-1", "run-2", "nightly"]));
    expect(m.get('etl_exporter_lines_dropped_total{reason="pipeline_limit"}')).toBe(3);
  }, 30_000);

  it("moves a checkpoint larger than the limits allow aside and starts, instead of crash-looping on it", async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, "logs"));
    writeFileSync(join(dir, "logs/etl.log"), heartbeat("etl"));
    const checkpoint = join(dir, "exporter-checkpoint.json");
    // The bound at one pipeline is 64 KiB + 16 MiB.
    writeFileSync(checkpoint, "x".repeat(17 * 1024 * 1024));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_MAX_PIPELINES: "1", ETL_CHECKPOINT_SECONDS: "0.2" };
    const exporter = startWorker("exporter", [], env);
    workers.push(exporter);
    await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 15_000, "ready");
    expect(existsSync(`${checkpoint}.corrupt`)).toBe(true);
    expect(exporter.stderr()).toMatch(/Checkpoint .* not used \(moved to .*\.corrupt.*more than the 16842752 the limits allow/);
    expect((await metricsOf(url)).get('etl_exporter_log_lines_total{result="parsed"}')).toBe(1);
  }, 30_000);
});
