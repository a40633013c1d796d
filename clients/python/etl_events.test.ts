// Runs the Python client's unittest suite under the machine's python3, with a real
// exporter (the bundle, --ingest) for the push test, whose counters are then checked.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ingestTokenHash } from "../../lib/ingest/token.ts";
import { cleanup, freePort, parseExposition, startWorker, stopWorker, tempDir, waitFor, type Worker } from "../../tests/harness.ts";

const dirs: string[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w, "SIGKILL");
  cleanup(dirs.splice(0));
});

describe("clients/python/etl_events.py", () => {
  it("passes its unittest suite, and the exporter counts its pushed run exactly", async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, "secrets"));
    const token = "python-client-token-0123456789";
    writeFileSync(join(dir, "secrets/hash"), ingestTokenHash(token));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const exporter = startWorker("exporter", [], {
      EXPORTER_PORT: String(port), ETL_DATA_DIR: dir, ETL_INGEST: "1", ETL_INGEST_TOKEN_FILE: join(dir, "secrets/hash"), ETL_POLL_MS: "50",
    });
    workers.push(exporter);
    await waitFor(async () => ((await fetch(`${url}/-/ready`).catch(() => null))?.status === 200 ? true : undefined), 15_000, "ready");

    const run = spawnSync("python3", ["-m", "unittest", "-v", "test_etl_events"], {
      cwd: import.meta.dirname,
      encoding: "utf8",
      env: { ...process.env, ETL_TEST_EXPORTER_URL: `${url}/api/v1/events`, ETL_TEST_TOKEN: token, PYTHONDONTWRITEBYTECODE: "1" },
      timeout: 60_000,
    });
    expect(run.stderr).toMatch(/Ran 8 tests in [\d.]+s\n\nOK\n$/);
    const counters = await waitFor(async () => {
      const m = parseExposition(await (await fetch(`${url}/metrics`)).text());
      const got = { files: m.get('etl_files_total{pipeline="python-job"}'), records: m.get('etl_records_total{pipeline="python-job"}') };
      return got.files === 20 ? got : undefined;
    }, 10_000, "the pushed run counted");
    expect(counters).toEqual({ files: 20, records: 190 });
  }, 90_000);
});
