// The exporter on batch jobs: the nightly job, the catalog file
// (bad at start-up, changed while serving), and runs across a SIGKILL.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatEvent } from "../lib/etl/emitter.ts";
import { EtlEventSchema, type EtlEvent } from "../lib/etl/events.ts";
import { recountRuns } from "../tools/recount_runs.ts";
import { cleanup, freePort, parseExposition, runWorker, startWorker, stopWorker, tempDir, waitFor, type Worker } from "./harness.ts";

const dirs: string[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w, "SIGKILL");
  cleanup(dirs);
});

const HOUR = 3_600_000;
const line = (ms: number, fields: object) => formatEvent({ ts: new Date(ms).toISOString(), level: "info", pipeline: "nightly", ...fields } as EtlEvent);

/** Started, three files, finished: a nightly run at `startMs`. */
function nightlyRun(startMs: number, runId: string, status = "success"): string {
  return [
    line(startMs, { event: "etl_started", run_id: runId }),
    ...[1, 2, 3].map((i) => line(startMs + i * 60_000, { event: "file_processed", run_id: runId, file: `f${i}.csv`, records: 100, duration_ms: 55_000 })),
    line(startMs + 200_000, { event: "etl_finished", run_id: runId, status }),
  ].join("");
}

function setUp(catalog?: string) {
  const dir = tempDir();
  dirs.push(dir);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const catalogPath = join(dir, "pipelines.yml");
  if (catalog !== undefined) writeFileSync(catalogPath, catalog);
  return { dir, log: join(dir, "logs/nightly.log"), catalogPath };
}

describe("exporter --once on a nightly batch job", () => {
  it("reads the run three hours later as healthy and idle, with the catalog's deadline", async () => {
    const { dir, log, catalogPath } = setUp('pipelines:\n  nightly:\n    schedule: "0 2 * * *"\n    labels: { team: data }\n');
    // Today's 02:00 run, or yesterday's when it is not yet 05:00: finished three hours ago either way.
    const start = Date.now() - 3 * HOUR - 200_000;
    writeFileSync(log, nightlyRun(start, "r1"));
    const { code, stdout, stderr } = await runWorker("exporter", ["--data-dir", dir, "--once", "--pipelines-file", catalogPath]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const m = parseExposition(stdout);
    expect(m.get('etl_health_status{pipeline="nightly"}')).toBe(1);
    expect(m.get('etl_pipeline_between_runs{pipeline="nightly"}')).toBe(1);
    expect(m.get('etl_runs_total{pipeline="nightly",status="success"}')).toBe(1);
    expect(m.get('etl_last_run_records{pipeline="nightly"}')).toBe(300);
    expect(m.get('etl_run_duration_seconds_sum{pipeline="nightly"}')).toBe(200);
    expect(m.get('etl_pipeline_info{team="data",pipeline="nightly",kind="batch",schedule="0 2 * * *"}')).toBe(1);
    // The first 02:00 after the finish, plus 15 min of grace.
    const finished = new Date(start + 200_000);
    const due = Date.UTC(finished.getUTCFullYear(), finished.getUTCMonth(), finished.getUTCDate(), 2) + (finished.getUTCHours() >= 2 ? 24 * HOUR : 0);
    expect(m.get('etl_deadline_timestamp_seconds{pipeline="nightly"}')).toBe((due + 15 * 60_000) / 1000);
  }, 30_000);

  it("reads it as idle without a catalog too (a batch job by its own etl_finished)", async () => {
    const { dir, log } = setUp();
    writeFileSync(log, nightlyRun(Date.now() - 3 * HOUR, "r1"));
    const { code, stdout } = await runWorker("exporter", ["--data-dir", dir, "--once"]);
    expect(code).toBe(0);
    const m = parseExposition(stdout);
    expect(m.get('etl_health_status{pipeline="nightly"}')).toBe(1);
    expect(m.get('etl_pipeline_state{pipeline="nightly",state="idle"}')).toBe(1);
    expect(m.get('etl_pipeline_info{pipeline="nightly",kind="batch",schedule=""}')).toBe(1);
  }, 30_000);

  it.each([
    ['pipelines:\n  nightly:\n    schedule: "0 25 * * *"\n', /pipeline "nightly", field schedule: is not a 5-field cron expression/],
    ["pipelines:\n  nightly:\n    grace: later\n", /pipeline "nightly", field grace: "later" is not a duration/],
  ])("refuses a bad catalog at start-up naming the pipeline and field, exit 2", async (text, message) => {
    const { dir, catalogPath } = setUp(text);
    const { code, stderr } = await runWorker("exporter", ["--data-dir", dir, "--once"], { ETL_PIPELINES_FILE: catalogPath });
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe("retiring pipelines", () => {
  it("leaves out a silent pipeline not in the catalog, counts it, and brings it back with its counters when it logs again", async () => {
    const { dir, log, catalogPath } = setUp("pipelines:\n  monthly:\n    schedule: '0 3 1 * *'\n");
    const old = Date.now() - 2 * HOUR;
    const file = (pipeline: string, ms: number) =>
      formatEvent({ ts: new Date(ms).toISOString(), level: "info", event: "file_processed", pipeline, file: "f", records: 7, duration_ms: 1 } as EtlEvent);
    writeFileSync(log, file("gone", old) + file("monthly", old));
    // --once shows all it read, old logs included.
    const once = await runWorker("exporter", ["--data-dir", dir, "--once", "--pipelines-file", catalogPath, "--retire-after", "1h"]);
    expect(once.code).toBe(0);
    expect(parseExposition(once.stdout).get('etl_records_total{pipeline="gone"}')).toBe(7);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const exporter = startWorker("exporter", [], {
      EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_POLL_MS: "50", ETL_PIPELINES_FILE: catalogPath, ETL_RETIRE_AFTER: "1h",
    });
    workers.push(exporter);
    await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 15_000, "ready");
    const scrape = async () => parseExposition(await (await fetch(`${url}/metrics`)).text());
    let m = await scrape();
    expect(m.get("etl_exporter_pipelines_retired_total")).toBe(1);
    expect(m.get('etl_records_total{pipeline="gone"}')).toBeUndefined();
    expect(Object.keys((await (await fetch(`${url}/health`)).json()).pipelines)).toEqual(["monthly"]);
    appendFileSync(log, file("gone", Date.now()));
    await waitFor(async () => ((await scrape()).get('etl_records_total{pipeline="gone"}') === 14 ? true : undefined), 10_000, "back, counting on");
    m = await scrape();
    expect(m.get("etl_exporter_pipelines_retired_total")).toBe(1);
  }, 60_000);

  it("refuses a bad --retire-after with exit 2", async () => {
    const { code, stderr } = await runWorker("exporter", ["--once", "--retire-after", "soon"]);
    expect(code).toBe(2);
    expect(stderr).toContain("must be a duration like 30m, 12h or 7d");
  });
});

describe("the simulator's batch mode", () => {
  it("writes runs of a batch job beside the always-on pipeline; the exporter counts them as a recount does", async () => {
    const { dir, log, catalogPath } = setUp("pipelines:\n  nightly:\n    every: 5s\n    min_records: 1\n");
    const passwordFile = join(dir, "password");
    writeFileSync(passwordFile, "correct horse battery staple\n");
    // 5 profile minutes at speed 60: a run every 5 s, of 4 files of 0.25 s.
    const sim = startWorker("simulator", ["--seed", "4", "--speed", "60", "--batch-pipelines", "nightly:5m"], {
      ETL_DATA_DIR: dir, SIMULATOR_PORT: String(await freePort()), ETL_METRICS_PASSWORD_FILE: passwordFile,
    });
    workers.push(sim);
    await waitFor(() => ((readFileSync(log, "utf8").match(/"etl_finished"/g) ?? []).length >= 2 ? true : undefined), 20_000, "two runs");
    await stopWorker(sim);
    const { code, stdout } = await runWorker("exporter", ["--data-dir", dir, "--once", "--pipelines-file", catalogPath]);
    expect(code).toBe(0);
    const m = parseExposition(stdout);
    const events = readFileSync(log, "utf8").trim().split("\n").map((l) => EtlEventSchema.parse(JSON.parse(l)));
    const runs = recountRuns(events).nightly!.runs;
    expect(m.get('etl_runs_total{pipeline="nightly",status="success"}')).toBe(runs.filter((r) => r.status === "success").length);
    expect(m.get('etl_runs_total{pipeline="nightly",status="success"}')).toBeGreaterThanOrEqual(2);
    expect(m.get('etl_runs_total{pipeline="nightly",status="failed"}')).toBe(0);
    expect(m.get('etl_last_run_records{pipeline="nightly"}')).toBeGreaterThanOrEqual(800);
    expect(new Set(events.map((e) => e.run_id)).size).toBe(runs.length);
    // The always-on pipeline is there too, as a service.
    expect(m.get('etl_pipeline_info{pipeline="etl",kind="service",schedule=""}')).toBe(1);
  }, 60_000);
});

describe("exporter serving batch runs", () => {
  it("re-reads a changed catalog, ignores a bad new version, and keeps runs across a SIGKILL equal to a recount", async () => {
    const { dir, log, catalogPath } = setUp("pipelines:\n  nightly:\n    every: 1d\n");
    const t0 = Date.now() - 2 * 24 * HOUR;
    writeFileSync(log, nightlyRun(t0, "r1") + nightlyRun(t0 + 24 * HOUR, "r2", "failed"));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_CHECKPOINT_SECONDS: "0.2", ETL_POLL_MS: "50", ETL_PIPELINES_FILE: catalogPath };
    const scrape = async () => parseExposition(await (await fetch(`${url}/metrics`)).text());
    const first = startWorker("exporter", [], env);
    workers.push(first);
    await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 15_000, "ready");
    expect((await scrape()).get('etl_pipeline_info{pipeline="nightly",kind="batch",schedule="every 1d"}')).toBe(1);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ pipelines: { nightly: { state: "failing", last_run: { run_id: "r2", status: "failed" } } } });

    writeFileSync(catalogPath, "pipelines:\n  nightly:\n    every: 12h\n    labels: { team: data }\n");
    await waitFor(async () => ((await scrape()).get('etl_pipeline_info{team="data",pipeline="nightly",kind="batch",schedule="every 12h"}') === 1 ? true : undefined), 10_000, "catalog re-read");
    writeFileSync(catalogPath, "pipelines:\n  nightly:\n    every: sometimes\n");
    await waitFor(() => (/previous one stays in force/.test(first.stderr()) ? true : undefined), 10_000, "bad catalog logged");
    expect(first.stderr()).toContain('pipeline \\"nightly\\", field every');
    expect((await scrape()).get('etl_pipeline_info{team="data",pipeline="nightly",kind="batch",schedule="every 12h"}')).toBe(1);

    // Repaired (a bad file would stop the restart below with exit 2, as at any start-up).
    writeFileSync(catalogPath, "pipelines:\n  nightly:\n    every: 12h\n    labels: { team: data }\n");

    // A run starts and is cut by a SIGKILL of the exporter after a checkpoint; it finishes while the exporter is down.
    appendFileSync(log, line(Date.now() - 60_000, { event: "etl_started", run_id: "r3" }));
    await waitFor(async () => ((await scrape()).get('etl_runs_in_progress{pipeline="nightly"}') === 1 ? true : undefined), 10_000, "run in progress");
    await new Promise((r) => setTimeout(r, 500));
    first.child.kill("SIGKILL");
    await first.exited;
    appendFileSync(log, line(Date.now() - 1000, { event: "etl_finished", run_id: "r3", status: "success", records: 42 }));

    const second = startWorker("exporter", [], env);
    workers.push(second);
    await waitFor(async () => ((await scrape()).get('etl_runs_in_progress{pipeline="nightly"}') === 0 ? true : undefined), 15_000, "finish read");
    // Resumed from the checkpoint (runs included), not by reading everything again.
    expect(second.stderr()).not.toContain("not used");
    const m = await scrape();
    const events = readFileSync(log, "utf8").trim().split("\n").map((l) => EtlEventSchema.parse(JSON.parse(l)));
    const runs = recountRuns(events).nightly!.runs;
    for (const status of ["success", "failed", "cancelled"]) {
      expect(m.get(`etl_runs_total{pipeline="nightly",status="${status}"}`), status).toBe(runs.filter((r) => r.status === status).length);
    }
    expect(m.get('etl_runs_total{pipeline="nightly",status="success"}')).toBe(2);
    expect(m.get('etl_last_run_records{pipeline="nightly"}')).toBe(42);
    expect((await (await fetch(`${url}/health`)).json()).pipelines.nightly.state).toBe("idle");
  }, 90_000);
});
