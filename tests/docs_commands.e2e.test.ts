// The docs' commands, run as typed on a clean copy of the repository, so a
// doc that drifts from the code fails here. Every command of a `sh` block in
// README.md, docs/runbook.md and grafana/README.md must be in DOC_COMMANDS
// below, which says how it runs here or why it cannot; an entry no doc has
// any more fails too. The copy holds the files git would check out, and the
// installed node_modules (installing needs the package registry).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, freePort, ROOT, tempDir, waitFor } from "./harness.ts";

const DOCS = ["README.md", "docs/runbook.md", "grafana/README.md"];

/**
 * How a command runs: in the copy, in doc order (`copy`); while `npm run
 * dev` runs in the copy (`dev`, its ports moved to free ones); or not here.
 * `ports` moves localhost:8083 and :8000 to dev's free ports; `as` is the
 * form actually run where more changes (named in the doc, or a stricter check).
 */
type How = { run: "copy" | "dev"; ports?: true; as?: (ctx: Context) => string } | { notHere: string };
interface Context {
  copy: string;
  exporterPort: number;
  simulatorPort: number;
}

const DOCKER = "Docker with pulled images: tests/compose.e2e.test.ts runs the stack on images built from stand-ins";
const STACK_LOCAL = "the whole native stack on its default ports, which the other helpers' stacks may hold; tests/alerting.e2e.test.ts runs it on free ports, " +
  "tests/command_lines.e2e.test.ts its command line (--help, unknown flags, a taken port)";
const GRAFANA = "Grafana cannot run on this machine";
const TLS_STACK = `${STACK_LOCAL}; tests/tls_stack.e2e.test.ts runs the native stack over HTTPS with the local CA`;
const MAIL = "an operator's own SMTP server and Slack workspace; tests/notifications.e2e.test.ts proves e-mail and Slack against a real Alertmanager with local sinks";
const atPorts = (command: string) => (ctx: Context) =>
  command.replaceAll("localhost:8083", `127.0.0.1:${ctx.exporterPort}`).replaceAll("localhost:8000", `127.0.0.1:${ctx.simulatorPort}`);

export const DOC_COMMANDS: Record<string, How> = {
  // README.md
  "npm install && npm run stack -- up": { notHere: DOCKER },
  "npm install && npm run dev": { notHere: "npm install needs the package registry; `npm run dev` is what the dev commands below run beside" },
  "npm test": { notHere: "the whole suite, this test included" },
  "npm install": { notHere: "needs the package registry (.ci/run runs `npm ci` on a fresh machine)" },
  "npm run stack -- up": { notHere: DOCKER },
  "npm run secrets": { run: "copy" },
  "docker compose -f deploy/compose/docker-compose.yml up -d --build": { notHere: DOCKER },
  "npm run stack -- up --tls": { notHere: DOCKER },
  "docker compose -f deploy/compose/docker-compose.yml -f deploy/compose/docker-compose.tls.yml up -d --build": { notHere: DOCKER },
  "ETL_TLS=1 npm run stack -- status": { notHere: DOCKER },
  "npm run stack -- scenario stall --tls": { notHere: DOCKER },
  "npm run stack -- status": { notHere: DOCKER },
  "npm run stack -- logs prometheus --follow": { notHere: DOCKER },
  "npm run stack -- scenario stall": { notHere: DOCKER },
  "npm run stack -- restart-etl": { notHere: DOCKER },
  "npm run stack -- backup": { notHere: DOCKER },
  "npm run stack -- restore backups/20261124T011000Z": { notHere: DOCKER },
  "npm run stack -- down": { notHere: DOCKER },
  "curl -s localhost:8083/metrics | grep ^etl_": { run: "dev", ports: true },
  "curl -s -H 'Accept: application/openmetrics-text' localhost:8083/metrics": { run: "dev", ports: true },
  "curl -s localhost:8083/health": { run: "dev", ports: true },
  'curl -s -u "metrics:$(cat secrets/metrics_password)" localhost:8000/metrics': { run: "dev", ports: true },
  "npm run exporter -- --once": { run: "copy" },
  "npm run simulator -- --events 100000 --seed 7": { run: "copy" },
  "npx deno run --allow-write=data my_job.ts": { run: "copy" },
  "npm run scenario -- stall": { run: "dev" },
  "npm run scenario -- --status": { run: "dev" },
  "curl -u \"control:$(cat secrets/control_password)\" -X PUT -H 'Content-Type: application/json' -d '{\"scenario\":\"stall\"}' localhost:8000/control/scenario": { run: "dev", ports: true },
  "curl -sS -H \"Authorization: Bearer $(cat secrets/ingest_token)\" -H 'Content-Type: application/x-ndjson' --data-binary '{\"ts\":\"2026-11-23T10:00:00.000Z\",\"level\":\"info\",\"pipeline\":\"orders\",\"event\":\"etl_started\",\"event_id\":\"run-42-start\"}' localhost:8083/api/v1/events": { run: "dev", ports: true },
  "npm run stack:local": { notHere: STACK_LOCAL },
  "npm run stack:local -- --tls": { notHere: TLS_STACK },
  "curl --cacert secrets/ca.crt https://localhost:8083/health": { notHere: TLS_STACK },
  "curl --cacert secrets/ca.crt -u \"readonly:$(cat secrets/prometheus_readonly_password)\" 'https://127.0.0.1:9090/api/v1/query?query=up'": { notHere: TLS_STACK },
  "curl --cacert secrets/ca.crt -u \"alertmanager:$(cat secrets/receiver_password)\" https://127.0.0.1:9095/notifications": { notHere: TLS_STACK },
  "NODE_EXTRA_CA_CERTS=secrets/ca.crt npm run scenario -- --url https://127.0.0.1:8000 stall": { notHere: TLS_STACK },
  "printf '%s' \"$SMTP_PASSWORD\" > secrets/smtp_password": { notHere: MAIL },
  "printf '%s' \"$SLACK_URL\" > secrets/slack_webhook_url": { notHere: MAIL },
  "ETL_ALERT_EMAIL_TO=oncall@example.org ETL_SMTP_SMARTHOST=smtp.example.org:587 ETL_SMTP_FROM=alertmanager@example.org ETL_SMTP_USER=alertmanager@example.org ETL_SMTP_PASSWORD_FILE=secrets/smtp_password ETL_ALERT_SLACK_WEBHOOK_URL_FILE=secrets/slack_webhook_url npm run stack:local": { notHere: MAIL },
  "curl -s -u \"alertmanager:$(cat secrets/receiver_password)\" 'localhost:9095/notifications?limit=5'": { notHere: STACK_LOCAL },
  // docs/runbook.md: its own comment gives the folder of `npm run dev`.
  "ETL_DATA=.stack/data/etl": { run: "dev", as: () => "ETL_DATA=data" },
  "PIPELINE=etl": { run: "dev" },
  "curl -s localhost:8083/health | jq": { run: "dev", ports: true },
  'curl -s localhost:8083/metrics | grep "^etl_.*pipeline=\\"$PIPELINE\\""': { run: "dev", ports: true },
  'curl -s -u "metrics:$(cat secrets/metrics_password)" localhost:8000/metrics | grep ^etl_': { run: "dev", ports: true },
  "tail -n 20 \"$ETL_DATA/logs/$PIPELINE.log\" | jq -c '{ts, event, file, records, error_type, message}'": { run: "dev" },
  "promtool query instant \"http://readonly:$(cat secrets/prometheus_readonly_password)@127.0.0.1:9090\" 'up{job=\"etl-metrics\"}'": { notHere: STACK_LOCAL },
  'amtool --alertmanager.url=http://127.0.0.1:9093 silence add alertname=EtlLowThroughput pipeline="$PIPELINE" --duration=2h --comment="backfill running, ticket ETL-123"': {
    notHere: STACK_LOCAL,
  },
  "amtool --alertmanager.url=http://127.0.0.1:9093 silence query": { notHere: STACK_LOCAL },
  "amtool --alertmanager.url=http://127.0.0.1:9093 silence expire <id>": { notHere: STACK_LOCAL },
  "curl -s -u \"readonly:$(cat secrets/prometheus_readonly_password)\" 'http://127.0.0.1:9090/api/v1/targets?state=active' | jq '.data.activeTargets[] | {job: .labels.job, health, lastError}'": {
    notHere: STACK_LOCAL,
  },
  "curl -fsS localhost:8083/-/healthy; curl -fsS localhost:8083/-/ready": {
    run: "dev",
    as: atPorts("curl -fsS localhost:8083/-/healthy && curl -fsS localhost:8083/-/ready"),
  },
  "curl -fsS localhost:8000/-/healthy": { run: "dev", ports: true },
  'curl -s localhost:8083/health | jq ".pipelines.$PIPELINE"': { run: "dev", as: atPorts('curl -s localhost:8083/health | jq -e ".pipelines.$PIPELINE"') },
  "tail -n 50 \"$ETL_DATA/logs/$PIPELINE.log\" | jq -c 'select(.event == \"file_failed\") | {ts, error_type, message}'": { run: "dev" },
  'ls -l --time-style=full-iso "$ETL_DATA/logs/"': { run: "dev" },
  "./node_modules/.bin/deno run --allow-read --allow-write commands/build/rules.ts --speed 60 --scrape-interval 1 --out /tmp/etl-rules-x60": {
    run: "copy",
    as: (ctx) => `./node_modules/.bin/deno run --allow-read --allow-write commands/build/rules.ts --speed 60 --scrape-interval 1 --out ${ctx.copy}/tmp/etl-rules-x60`,
  },
  "promtool test rules /tmp/etl-rules-x60/etl-alerts.test.yml": { run: "copy", as: (ctx) => `promtool test rules ${ctx.copy}/tmp/etl-rules-x60/etl-alerts.test.yml` },
  // grafana/README.md
  "cat secrets/grafana_admin_password": { run: "copy" },
  'curl -s -u "admin:$(cat secrets/grafana_admin_password)" http://127.0.0.1:3000/api/dashboards/uid/etl-monitoring | head -c 200': { notHere: GRAFANA },
  "npx vitest run grafana/": { notHere: "a run of the suite's own tests (they run in the suite)" },
  "npx vitest run tests/grafana_queries.e2e.test.ts": { notHere: "a run of the suite's own tests (it runs in the suite)" },
};

/** Every command of the `sh` blocks of a Markdown text: continuations joined, trailing comments cut. */
export function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of block[1]!.replace(/\\\n\s*/g, "").split("\n")) {
      const command = withoutComment(line).trim();
      if (command !== "") commands.push(command);
    }
  }
  return commands;
}

/** A line without its trailing `# comment`; a `#` inside quotes or a word is not one. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** The first `ts` block of the README: the emitter example, saved as the README says. */
function readmeExample(): string {
  return /^```ts\n([\s\S]*?)^```$/m.exec(readFileSync(join(ROOT, "README.md"), "utf8"))![1]!;
}

const documented = DOCS.flatMap((doc) => shellCommands(readFileSync(join(ROOT, doc), "utf8")).map((command) => ({ doc, command })));
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;

describe("the docs' command list", () => {
  it("classifies every command of the docs, and only those", () => {
    const unlisted = documented.filter(({ command }) => !(command in DOC_COMMANDS));
    expect(unlisted, "add these to DOC_COMMANDS (how they run here, or why not)").toEqual([]);
    const stale = Object.keys(DOC_COMMANDS).filter((command) => !documented.some((d) => d.command === command));
    expect(stale, "no doc has these any more").toEqual([]);
  });

  it("parses continuations and comments as a shell would read them", () => {
    expect(shellCommands("```sh\nnpm run dev   # both\namtool a \\\n  b --c=\"d # e\"\n```\n")).toEqual(["npm run dev", 'amtool a b --c="d # e"']);
  });
});

describe("the docs' commands on a clean copy", () => {
  const dirs: string[] = [];
  let ctx: Context;
  let env: NodeJS.ProcessEnv;
  let dev: ChildProcess | undefined;
  let devLog = "";
  // Shell variables a doc sets (ETL_DATA=…) hold for its later commands, as in one terminal.
  let variables = "";

  function sh(command: string, extraEnv: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["-o", "pipefail", "-c", variables + command], {
      cwd: ctx.copy, env: { ...env, ...extraEnv }, encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 26,
    });
    if (/^[A-Z_]+=\S+$/.test(command)) variables += `${command}; `;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  beforeAll(async () => {
    const copy = tempDir("etl-docs-");
    dirs.push(copy);
    const files = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\0");
    for (const file of files.filter((f) => f !== "" && f !== "node_modules" && existsSync(join(ROOT, f)))) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
    }
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    writeFileSync(join(copy, "my_job.ts"), readmeExample());
    ctx = { copy, exporterPort: await freePort(), simulatorPort: await freePort() };
    // A new user's shell: none of the stack's variables but the ports moved off the defaults.
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ETL_|EXPORTER_|SIMULATOR_|RECEIVER_|BENCH_)/.test(k)));
    Object.assign(env, { EXPORTER_PORT: String(ctx.exporterPort), SIMULATOR_PORT: String(ctx.simulatorPort) });
  }, 60_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      // npm does not pass Ctrl-C on; a terminal sends it to the whole process group, as here.
      process.kill(-dev.pid!, "SIGINT");
      await new Promise((r) => dev!.once("exit", r));
    }
    cleanup(dirs);
  });

  const copyCommands = documented.filter(({ command }) => (DOC_COMMANDS[command] as { run?: string }).run === "copy");
  it.each(copyCommands)("$doc: $command", ({ command }) => {
    const how = DOC_COMMANDS[command] as { as?: (c: Context) => string };
    const typed = how.as?.(ctx) ?? command;
    if (typed.startsWith("promtool") && !hasPromtool && process.env.CI !== "true") return;
    const r = sh(typed);
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    if (command === "npm run simulator -- --events 100000 --seed 7") expect(r.stdout).toMatch(/Wrote 100000 events to data\/logs\/etl\.log in /);
    if (command === "npx deno run --allow-write=data my_job.ts") {
      const lines = readFileSync(join(ctx.copy, "data/logs/orders.log"), "utf8").trim().split("\n");
      expect(lines.map((l) => JSON.parse(l).event)).toEqual(["etl_started", "file_processed", "file_failed", "etl_finished"]);
    }
  }, 60_000);

  it("regenerates exactly the committed files (build commands)", () => {
    for (const command of ["npm run build:schema", "npm run build:rules", "npm run build:dashboards", "npm run build:compose-tls"]) {
      expect(sh(command).code, command).toBe(0);
    }
    for (const file of ["lib/etl/etl-log-event.v1.schema.json", "prometheus/rules/etl-alerts.yml", "prometheus/rules/etl-alerts.test.yml",
      "prometheus/alertmanager.yml", "grafana/dashboards/etl-monitoring.json", "grafana/README.md",
      "deploy/compose/docker-compose.tls.yml", "prometheus/prometheus.tls.yml", "prometheus/alertmanager.tls.yml", "grafana/provisioning-tls/datasources/prometheus.yml"]) {
      expect(readFileSync(join(ctx.copy, file), "utf8"), file).toBe(readFileSync(join(ROOT, file), "utf8"));
    }
  }, 60_000);

  it("runs the Commands table's tasks with the npm-installed Deno (npx) and with a Deno on PATH", () => {
    const table = readFileSync(join(ROOT, "README.md"), "utf8").split("\n## Commands\n")[1]!.split("\n## ")[0]!;
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
    const tasks = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).tasks as Record<string, string>;
    const rows = [...table.matchAll(/^\| `npm (?:run )?([\w:-]+)[^`]*` \| `deno task ([\w:-]+)[^`]*` \|/gm)];
    // Every row names a deno task, but for the few that only npm runs (an empty second cell).
    const npmRows = table.split("\n").filter((line) => line.startsWith("| `npm "));
    expect(rows.length).toBe(npmRows.filter((line) => !/^\| `npm [^|]*\| \|/.test(line)).length);
    expect(rows.length).toBeGreaterThanOrEqual(14);
    for (const [, npm, deno] of rows) {
      expect(npm === "test" || npm! in scripts, `npm run ${npm}`).toBe(true);
      expect(deno! in tasks, `deno task ${deno}`).toBe(true);
      expect(deno).toBe(npm);
    }
    const npmOnly = sh("npx deno task exporter --once");
    expect(npmOnly.code).toBe(0);
    expect(npmOnly.stdout).toMatch(/^etl_records_total\{pipeline="etl"\} \d+$/m);
    // A global Deno: `deno` found on PATH (here, the same binary).
    const globalDeno = sh("deno task simulator --events 10 --seed 1 --pipelines other", { PATH: `${join(ROOT, "node_modules/.bin")}:${env.PATH}` });
    expect(globalDeno.code).toBe(0);
    expect(globalDeno.stdout).toMatch(/^Wrote 10 events to data\/logs\/other\.log in /);
  }, 60_000);

  const devCommands = documented.filter(({ command }) => (DOC_COMMANDS[command] as { run?: string }).run === "dev");
  it("starts npm run dev", async () => {
    dev = spawn("npm", ["run", "dev"], { cwd: ctx.copy, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
    dev.stderr!.on("data", (d) => (devLog += d));
    await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${ctx.exporterPort}/metrics`)).text();
      return /^etl_starts_total\{pipeline="etl"\} [1-9]/m.test(text) ? true : undefined;
    }, 40_000, `npm run dev serving the simulator's pipeline (${devLog})`);
    // The simulator logs before its own server listens: a loaded machine showed the gap.
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${ctx.simulatorPort}/-/healthy`)).ok ? true : undefined), 20_000, `the simulator of npm run dev listening (${devLog})`);
  }, 60_000);

  it.each(devCommands)("$doc: $command", ({ command }) => {
    expect(dev?.exitCode ?? null, devLog).toBe(null);
    const how = DOC_COMMANDS[command] as { ports?: true; as?: (c: Context) => string };
    const r = sh(how.as?.(ctx) ?? (how.ports ? atPorts(command)(ctx) : command));
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
  }, 60_000);

  it("lists what does not run here", () => {
    const notHere = Object.entries(DOC_COMMANDS).filter(([, how]) => "notHere" in how);
    expect(notHere.length).toBeGreaterThan(0);
    for (const [, how] of notHere) expect((how as { notHere: string }).notHere.length).toBeGreaterThan(10);
    expect(readdirSync(ctx.copy)).toContain("data");
  });
});
