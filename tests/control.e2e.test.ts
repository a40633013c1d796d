// The simulator's /control/scenario as it runs (dist/simulator.mjs), and the
// `npm run scenario` CLI against it.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, freePort, killAll, ROOT, type Spawned, spawnProcess, tempDir, waitFor } from "./harness.ts";

const SIMULATOR = join(ROOT, "dist/simulator.mjs");
const CLI = join(ROOT, "dist/scenario.mjs");
const VALID = "valid scenarios: normal, stall, crash, slow, error-burst, low-throughput, late, hung, empty, volume-drop";


const dirs: string[] = [];
const running: Spawned[] = [];
afterEach(async () => {
  await killAll(running);
  cleanup(dirs);
});

function run(args: string[], cwd: string, env: Record<string, string>): Spawned {
  const r = spawnProcess(process.execPath, args, { cwd, env: { ETL_LOG_LEVEL: "warning", ...env } });
  running.push(r);
  return r;
}

/** Runs the simulator in a fresh folder, so its dev credentials are made there, and waits until it serves. */
async function startSimulator(env: Record<string, string> = {}) {
  const cwd = tempDir("etl-control-");
  dirs.push(cwd);
  const port = await freePort();
  const simulator = run([SIMULATOR, "--speed", "50", "--seed", "5"], cwd, { SIMULATOR_PORT: String(port), ETL_DATA_DIR: join(cwd, "data"), ...env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/-/healthy`)).status === 200 ? true : undefined), 20_000, "simulator serving");
  return { cwd, url, simulator, log: join(cwd, "data/logs/etl.log") };
}

async function cli(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = run([CLI, ...args], cwd, env);
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("/control/scenario on the running simulator", () => {
  it("needs the control credential, refuses an unknown scenario, and stall/normal stop and restart the log", async () => {
    const dir = tempDir("etl-control-");
    dirs.push(dir);
    const passwordFile = join(dir, "control-password");
    writeFileSync(passwordFile, "switch me\n");
    const { url, log, cwd } = await startSimulator({ ETL_CONTROL_PASSWORD_FILE: passwordFile });
    // With a configured file, no control credential is made in ./secrets (the metrics one is).
    expect(existsSync(join(cwd, "secrets/control_password"))).toBe(false);
    const endpoint = `${url}/control/scenario`;
    const auth = { authorization: basic("control", "switch me") };
    const put = (scenario: string) =>
      fetch(endpoint, { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ scenario }) });

    expect((await fetch(endpoint)).status).toBe(401);
    expect((await fetch(endpoint, { headers: { authorization: basic("control", "nope") } })).status).toBe(401);
    // The /metrics credential does not open the control endpoint.
    const metricsPassword = readFileSync(join(cwd, "secrets/metrics_password"), "utf8");
    expect((await fetch(endpoint, { headers: { authorization: basic("metrics", metricsPassword) } })).status).toBe(401);

    const current = await fetch(endpoint, { headers: auth });
    expect(current.status).toBe(200);
    expect(await current.json()).toMatchObject({ scenario: "normal" });

    const unknown = await put("boom");
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ error: `unknown scenario "boom"; ${VALID}` });

    await waitFor(() => (sizeOf(log) > 0 ? true : undefined), 10_000, "first events");
    const stalled = await put("stall");
    expect(stalled.status).toBe(200);
    const state = (await stalled.json()) as { scenario: string; since: string };
    expect(state.scenario).toBe("stall");
    expect(Date.now() - Date.parse(state.since)).toBeLessThan(5_000);
    // At speed 50 a heartbeat is due every 100 ms: 1.5 s of silence is the stall, not chance.
    const before = sizeOf(log);
    await sleep(1_500);
    expect(sizeOf(log)).toBe(before);
    // The endpoint still serves while stalled, as a hung ETL process's would.
    expect((await fetch(`${url}/-/healthy`)).status).toBe(200);

    expect((await put("normal")).status).toBe(200);
    await waitFor(() => (sizeOf(log) > before ? true : undefined), 5_000, "the log to grow again");
    expect(await (await fetch(endpoint, { headers: auth })).json()).toMatchObject({ scenario: "normal" });
  }, 60_000);

  it("refuses a missing ETL_CONTROL_PASSWORD_FILE with exit 2 and a clear message", async () => {
    const cwd = tempDir("etl-control-");
    dirs.push(cwd);
    const missing = join(cwd, "nope");
    const simulator = run([SIMULATOR], cwd, { SIMULATOR_PORT: String(await freePort()), ETL_DATA_DIR: join(cwd, "data"), ETL_CONTROL_PASSWORD_FILE: missing });
    expect(await simulator.exited).toBe(2);
    expect(simulator.stderr()).toContain(`ETL_CONTROL_PASSWORD_FILE ${missing}: ENOENT`);
    expect(simulator.stderr()).not.toMatch(/\n\s+at /);
  }, 30_000);

  it("crashes with code 3 at start-up after ETL_CRASH_AFTER_SECONDS", async () => {
    const { simulator } = await startSimulator({ ETL_SCENARIO: "crash", ETL_CRASH_AFTER_SECONDS: "0.5" });
    expect(await simulator.exited).toBe(3);
    expect(simulator.stderr()).toContain("Scenario crash: the simulated ETL process dies now (exit code 3)");
  }, 30_000);
});

describe("npm run scenario", () => {
  it("shows and switches the scenario with the dev credential, and explains each failure", async () => {
    const { cwd, url, simulator, log } = await startSimulator();
    const env = { SIMULATOR_URL: url };
    // The simulator made the control credential on first run, where the CLI looks by default.
    expect(statSync(join(cwd, "secrets/control_password")).mode & 0o777).toBe(0o600);
    expect(statSync(join(cwd, "secrets/control_password.bcrypt")).mode & 0o777).toBe(0o600);

    const status = await cli(["--status"], cwd, env);
    expect(status).toMatchObject({ code: 0, stderr: "" });
    expect(status.stdout).toMatch(/^scenario normal since \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);

    const stall = await cli(["stall"], cwd, env);
    expect(stall.code).toBe(0);
    expect(stall.stdout).toMatch(/^scenario stall since /);
    const before = sizeOf(log);
    await sleep(1_000);
    expect(sizeOf(log)).toBe(before);

    const unknown = await cli(["boom"], cwd, env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`scenario: the simulator refused: unknown scenario "boom"; ${VALID}\n`);

    const wrongFile = join(cwd, "wrong");
    writeFileSync(wrongFile, "not it");
    const wrong = await cli(["normal", "--password-file", wrongFile], cwd, env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`wrong control password in ${wrongFile}`);

    const hash = await cli(["normal", "--password-file", "secrets/control_password.bcrypt"], cwd, env);
    expect(hash.code).toBe(1);
    expect(hash.stderr).toContain("holds a bcrypt hash");

    const usage = await cli([], cwd, env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("name a scenario, or --status");
    const help = await cli(["--help"], cwd, env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("error-burst");

    const absent = `http://127.0.0.1:${await freePort()}`;
    const down = await cli(["--status", "--url", absent], cwd, env);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`scenario: cannot reach ${absent} (ECONNREFUSED), is it running? (npm run dev)\n`);

    const noFile = await cli(["--status", "--password-file", join(cwd, "none")], cwd, env);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain(`cannot read the control password file ${join(cwd, "none")}: not found`);

    // Back to normal: the log grows again.
    expect((await cli(["normal"], cwd, env)).code).toBe(0);
    await waitFor(() => (sizeOf(log) > before ? true : undefined), 5_000, "the log to grow again");

    // A switch to crash at run time ends the process with code 3 in about a second.
    const switched = Date.now();
    const crash = await cli(["crash"], cwd, env);
    expect(crash.code).toBe(0);
    expect(crash.stdout).toContain("exits with code 3 in about 1 s");
    expect(await simulator.exited).toBe(3);
    expect(Date.now() - switched).toBeLessThan(5_000);
  }, 90_000);
});
