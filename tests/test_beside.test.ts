// Most source files have their test beside them (`x.ts`, `x.test.ts`). The
// rest are listed in TESTED_ELSEWHERE with the tests that exercise them, so
// the README's claim stays true: a new file without a test beside it, an
// entry whose file has one now or is gone, or a "where" naming a test that
// does not exist fails here.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const E2E_FLAGS = "tests/command_lines.e2e.test.ts (--help, unknown flags, bounds)";
const REGENERATES = "tests/docs_commands.e2e.test.ts (regenerates exactly the committed files)";

/** Files without a test beside them, and where they are tested instead. */
export const TESTED_ELSEWHERE: Record<string, string> = {
  "bench/scale.ts": "the benchmark itself (npm run bench:scale); the hosts it makes: tools/netns/netns.test.ts",
  "commands/build/kubernetes.ts": "lib/kubernetes/manifests.test.ts (the committed files are what it writes)",
  "commands/build/mixin.ts": "lib/mixin/mixin.test.ts (the committed files are what it writes)",
  "lib/kubernetes/operator_ha.ts": "lib/kubernetes/manifests.test.ts (the operator-ha overlay validated and built)",
  "clients/typescript/emitter.ts": "tests/emitter_package.e2e.test.ts (the package entry built, type-checked and run by a job outside the repository)",
  "workers/exporter/push_sink.ts": "handlers/ingest.test.ts (group commit, duplicates, 503 through the real sink) and tests/push.e2e.test.ts",
  "workers/exporter/push_endpoint.ts": "tests/push.e2e.test.ts (the exporter with ETL_INGEST, SIGKILL and restart)",
  "workers/ingest_token.ts": "commands/secrets/store.test.ts (made, kept, rotated, modes by npm run secrets)",
  "lib/catalog/entry.ts": "lib/catalog/catalog.test.ts and lib/catalog/status.test.ts (the types and catalogEntry, through the parser and the states)",
  "tools/netns/etl_hosts.ts": "test infrastructure: the hosts of tests/multihost.e2e.test.ts and bench/scale.ts",
  "tools/recount_runs.ts": "test infrastructure: the hand recount that lib/etl/runs.test.ts and tests/batch_exporter.e2e.test.ts hold the runs to",
  "bench/ingest_latency.ts": "the benchmark itself (npm run bench)",
  "bench/notification_latency.ts": "the benchmark itself (npm run bench); its sinks: tools/alerts/notification_sinks.test.ts",
  "workers/exporter/certificate_expiry.ts": "tests/tls.e2e.test.ts and tests/tls_stack.e2e.test.ts (the gauge of the certificate served)",
  "workers/exporter/log_discovery.ts": "workers/exporter/tailer.test.ts (the reader's property test: discovery, streams, wake-up together)",
  "workers/exporter/log_stream.ts": "workers/exporter/tailer.test.ts (rotation, copytruncate, deletion, restore)",
  "workers/exporter/log_watch.ts": "workers/exporter/tailer.test.ts (lines read on a file-system event with an hour-long poll)",
  "workers/tls.ts": "tests/tls.e2e.test.ts (every server over HTTPS on Node and Deno; bad files refused)",
  "bench/limits.ts": "the benchmark itself (npm run bench; the figures of the README's Limits section)",
  "handlers/method_not_allowed.ts": "handlers/security_headers.test.ts (405 with Allow on every GET route of every app)",
  "bench/scrape.ts": "the benchmark itself (npm run bench)",
  "workers/bcrypt_thread.ts": "workers/bcrypt_compare.test.ts (the thread it starts: compares off the event loop, at nice 19)",
  "bench/push.ts": "the benchmark itself (npm run bench); the endpoint it loads: handlers/ingest.test.ts, tests/push.e2e.test.ts",
  "tools/free_port.ts": "test infrastructure: every end-to-end test and benchmark that starts a server takes its port here",
  "bench/main.ts": `the benchmark itself (npm run bench); its flags in ${E2E_FLAGS}`,
  "commands/build/dashboards.ts": `${E2E_FLAGS}; ${REGENERATES}; lib/dashboard/docs.test.ts (the committed files are current)`,
  "commands/build/rules.ts": `${E2E_FLAGS}; ${REGENERATES}; lib/alerts/rules.test.ts (the committed files are current)`,
  "commands/build/compose_tls.ts": `${E2E_FLAGS}; ${REGENERATES}; lib/stack/compose_tls.test.ts (the committed files are current)`,
  "commands/build/schema.ts": `${E2E_FLAGS}; ${REGENERATES}; lib/etl/events_json_schema.test.ts (the committed file is current)`,
  "commands/scenario/main.ts": `commands/scenario/scenario_cli.test.ts (all its work); ${E2E_FLAGS}; tests/docs_commands.e2e.test.ts`,
  "commands/secrets/fan_out_main.ts": `commands/secrets/fan_out.test.ts (all its work); ${E2E_FLAGS}; tests/compose.e2e.test.ts`,
  "commands/secrets/main.ts": `commands/secrets/cli.test.ts (all its work); ${E2E_FLAGS}`,
  "commands/stack/local.ts": "lib/stack/local_settings.test.ts (its settings); tests/command_lines.e2e.test.ts (--help, unknown flags, a taken port); tests/alerting.e2e.test.ts (the native stack it starts)",
  "commands/stack/native.ts": "tests/alerting.e2e.test.ts and tests/grafana_queries.e2e.test.ts (real Prometheus and Alertmanager)",
  "handlers/health.ts": "handlers/app.test.ts (/health: 200, 503 when stale, the verdicts)",
  "handlers/landing.ts": "handlers/app.test.ts (/ and unknown paths)",
  "handlers/metrics.ts": "handlers/app.test.ts (/metrics in both formats, with and without auth)",
  "handlers/probes.ts": "handlers/app.test.ts (/-/healthy, /-/ready before and after the catch-up)",
  "lib/etl/snapshot.ts": "types only; checked by tsc and deno check (tests/typecheck.test.ts)",
  "lib/etl/state.ts": "lib/etl/ingest.test.ts and lib/etl/reducer.test.ts (the state they fold into); tools/recount.test.ts",
  "lib/metrics/etl_families.ts": "lib/metrics/render.test.ts (every family rendered and checked)",
  "lib/metrics/exporter_families.ts": "lib/metrics/render.test.ts (every family rendered and checked)",
  "lib/metrics/family.ts": "lib/metrics/render.test.ts",
  "lib/secrets/dev_credentials.ts": "lib/secrets/secrets_layout.test.ts and workers/secret_files.test.ts (the rules it holds, through their users)",
  "lib/stack/compose_project.ts": "lib/stack/published_ports.test.ts and lib/stack/compose_command.test.ts (constants they build on)",
  "commands/stack/backup_commands.ts": "commands/stack/cli_commands.test.ts (backup and restore through the CLI) and tests/compose.e2e.test.ts",
  "commands/stack/context.ts": "commands/stack/cli_commands.test.ts (every command runs through it)",
  "tools/grafana/lint_config.ts": "lib/dashboard/dashboard.test.ts (the dashboard linted with it)",
  "tools/receiver/example_webhook.ts": "test fixture: used by handlers/webhook_receiver.test.ts and lib/receiver/*.test.ts",
  "tests/global_setup.ts": "test infrastructure: builds the bundles every end-to-end test runs",
  "tests/harness.ts": "test infrastructure: used by every end-to-end test",
  "tools/grafana/schema_types.ts": "types only, compiled into the dashboard's JSON Schema: tools/grafana/schema.test.ts",
  "vitest.config.ts": "test configuration",
  "vitest.compose.config.ts": "test configuration",
  "workers/credentials.ts": "tests/dev.e2e.test.ts (made on first run, mode 0600) and tests/control.e2e.test.ts",
  "workers/dev.ts": "tests/dev.e2e.test.ts (npm run dev and deno task dev: start, Ctrl-C, a taken port, a worker dying at start)",
  "workers/exporter/catalog_file.ts": "tests/batch_exporter.e2e.test.ts (--pipelines-file, ETL_PIPELINES_FILE, exit 2 on a bad one, re-read on change, a bad change ignored)",
  "workers/exporter/ingest_thread.ts": "workers/exporter/bulk_ingest.test.ts (threads against one thread)",
  "workers/exporter/main.ts": "tests/exporter.e2e.test.ts (Node and Deno, SIGKILL and restart, bad settings)",
  "workers/receiver/main.ts": "tests/receiver.e2e.test.ts",
  "workers/simulator/batch_simulation.ts": "tests/batch_exporter.e2e.test.ts (the simulator's batch mode, recounted) and tests/alerting.e2e.test.ts (its scenarios)",
  "workers/simulator/main.ts": `tests/control.e2e.test.ts, tests/exporter.e2e.test.ts and ${E2E_FLAGS}`,
  "workers/start.ts": `${E2E_FLAGS}; tests/exporter.e2e.test.ts (advice naming the flag or the variable given)`,
};

/** The source files a checkout has (tracked, or new and not ignored), without tests and declarations. */
function sourceFiles(): string[] {
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n");
  return listed.filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts") && existsSync(join(ROOT, f)));
}

describe("tests beside the code", () => {
  const files = sourceFiles();
  const withoutBeside = files.filter((f) => !existsSync(join(ROOT, f.replace(/\.ts$/, ".test.ts"))));

  it("finds a test beside every source file, or says where it is tested", () => {
    expect(withoutBeside.filter((f) => !(f in TESTED_ELSEWHERE)), "give these a test beside them, or an entry in TESTED_ELSEWHERE").toEqual([]);
  });

  it("lists no file that is gone or has a test beside it now", () => {
    expect(Object.keys(TESTED_ELSEWHERE).filter((f) => !withoutBeside.includes(f)), "remove these from TESTED_ELSEWHERE").toEqual([]);
  });

  it("names only tests that exist", () => {
    const named = Object.values(TESTED_ELSEWHERE).flatMap((where) => [...where.matchAll(/[\w./-]+\.test\.ts/g)].map((m) => m[0]));
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((test) => !existsSync(join(ROOT, test)))).toEqual([]);
  });
});
