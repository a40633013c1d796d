/**
 * A batch job on a host of its own, for tests/multihost.e2e.test.ts: it runs
 * ETL_PUSH_RUNS runs of ETL_PUSH_FILES files each with the TypeScript client
 * as a job would use it (the built dist/emitter.mjs: runJob() and the HTTP
 * sink), pushing to ETL_PUSH_URL with the token in ETL_INGEST_TOKEN_FILE.
 * Plain JavaScript so that Node runs it as it is, with no build step.
 *
 * Prints one JSON line: what it sent (runs, files, records, events) and the
 * sends it made and how many of them failed, so the test can tell that the
 * client's retry was exercised (the test starts this host with its link down).
 * Exits 1 when the sink gave a batch up.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { createEventEmitter, createHttpSink, runJob } from "../../dist/emitter.mjs";

const env = process.env;
const runs = Number(env.ETL_PUSH_RUNS ?? 3);
const filesPerRun = Number(env.ETL_PUSH_FILES ?? 4);
const sent = { runs: 0, files: 0, records: 0, events: 0, sends: 0, failedSends: 0 };

// The sink's own fetch, counted: a network error or a retried status is a failed send.
const countingFetch = async (input, init) => {
  sent.sends += 1;
  try {
    const response = await fetch(input, init);
    if (!response.ok) sent.failedSends += 1;
    return response;
  } catch (error) {
    sent.failedSends += 1;
    throw error;
  }
};
const sink = createHttpSink({
  url: env.ETL_PUSH_URL,
  token: readFileSync(env.ETL_INGEST_TOKEN_FILE, "utf8").trim(),
  fetch: countingFetch,
  flushOnExit: false,
});
const etl = createEventEmitter({
  pipeline: env.ETL_PUSH_PIPELINE ?? "pushed_orders",
  write: (line) => {
    sent.events += 1;
    sink.write(line);
  },
});

try {
  for (let run = 1; run <= runs; run++) {
    await runJob(etl, sink, (etl) => {
      for (let file = 1; file <= filesPerRun; file++) {
        const records = 100 * run + file;
        etl.fileProcessed({ file: `run${run}-${file}.csv`, records, duration_ms: 20 });
        sent.files += 1;
        sent.records += records;
      }
    }, { version: "1.0.0" });
    sent.runs += 1;
  }
  await sink.close();
} catch (error) {
  console.error(`push job: ${error.message}`);
  process.exitCode = 1;
}
console.log(JSON.stringify(sent));
