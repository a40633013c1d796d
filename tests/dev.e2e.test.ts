import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, DENO, freePort, ROOT, tempDir, waitFor } from "./harness.ts";

const dirs: string[] = [];
afterEach(() => cleanup(dirs));

// `npm run dev` runs dist/dev.mjs; `deno task dev` runs workers/dev.ts.
describe.each([
  ["npm run dev", process.execPath, [join(ROOT, "dist/dev.mjs")]],
  ["deno task dev", DENO, ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys", "--allow-run", join(ROOT, "workers/dev.ts")]],
])("%s", (_name, command, args) => {
  it("starts both workers with fresh credentials, serves curl-able endpoints, stops cleanly on Ctrl-C", async () => {
    const cwd = tempDir();
    dirs.push(cwd);
    const [exporterPort, simulatorPort] = [await freePort(), await freePort()];
    const child = spawn(command, [...args, "--speed", "30"], {
      cwd,
      env: { ...process.env, EXPORTER_PORT: String(exporterPort), SIMULATOR_PORT: String(simulatorPort), ETL_LOG_LEVEL: "warning" },
      stdio: "pipe",
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    try {
      const records = await waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text();
        const value = Number(/^etl_records_total\{pipeline="etl"\} (\d+)$/m.exec(text)?.[1] ?? 0);
        return value > 0 ? value : undefined;
      }, 20_000, "records rising");
      expect(records).toBeGreaterThan(0);
      // The batch job beside it, described by the example catalog: a run at start-up, 2 s long at speed 30.
      const batch = await waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text();
        return /^etl_runs_total\{pipeline="batch_orders",status="success"\} [1-9]/m.test(text) ? text : undefined;
      }, 20_000, "a batch run");
      expect(batch).toMatch(/^etl_pipeline_info\{team="data-platform",tier="2",pipeline="batch_orders",kind="batch",schedule="every 5m"\} 1$/m);
      expect(batch).toMatch(/^etl_pipeline_info\{team="data-platform",pipeline="etl",kind="service",schedule=""\} 1$/m);
      expect((await fetch(`http://127.0.0.1:${simulatorPort}/metrics`)).status).toBe(401);
      expect(statSync(join(cwd, "secrets/metrics_password")).mode & 0o777).toBe(0o600);
      expect(stderr).toContain(`curl -s -u "metrics:$(cat secrets/metrics_password)" http://127.0.0.1:${simulatorPort}/metrics`);
      expect(stderr).toContain("Ctrl-C stops both.");
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${exporterPort}/-/healthy`)).rejects.toThrow();
  }, 60_000);

  /** Runs dev to its end with these ports and variables. */
  async function runDev(exporterPort: number, simulatorPort: number, env: Record<string, string> = {}, flags: string[] = []) {
    const cwd = tempDir();
    dirs.push(cwd);
    const child = spawn(command, [...args, ...flags], {
      cwd,
      env: { ...process.env, EXPORTER_PORT: String(exporterPort), SIMULATOR_PORT: String(simulatorPort), ETL_LOG_LEVEL: "warn", ...env },
      stdio: "pipe",
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((done) => child.on("exit", (c) => done(c)));
    return { code, stderr };
  }

  it("with its exporter port taken, says which setting moves it and exits 1 before starting anything", async () => {
    // Another program that answers every request with 200, /-/healthy included.
    const other = createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1");
    await new Promise((r) => other.once("listening", r));
    const taken = (other.address() as { port: number }).port;
    const simulatorPort = await freePort();
    try {
      const { code, stderr } = await runDev(taken, simulatorPort, {}, ["--exporter-port", String(taken)]);
      expect(code).toBe(1);
      expect(stderr).toContain(`dev: the exporter cannot listen on 127.0.0.1:${taken}: the port is in use (another copy running?); set --exporter-port to another port`);
      expect(stderr).not.toContain("Ctrl-C stops both.");
      expect(stderr).not.toContain("metrics_password");
    } finally {
      other.close();
    }
    await expect(fetch(`http://127.0.0.1:${simulatorPort}/-/healthy`)).rejects.toThrow();
  }, 30_000);

  it("stops the exporter and exits with the simulator's code when the simulator dies at start", async () => {
    const [exporterPort, simulatorPort] = [await freePort(), await freePort()];
    const { code, stderr } = await runDev(exporterPort, simulatorPort, { ETL_SCENARIO: "bogus" });
    expect(code).toBe(2);
    expect(stderr).toContain('ETL_SCENARIO="bogus": must be one of normal, stall, crash, slow, error-burst, low-throughput');
    expect(stderr).toContain("stopped at start (code 2, signal null): stopping the rest");
    expect(stderr).not.toContain("Ctrl-C stops both.");
    await expect(fetch(`http://127.0.0.1:${exporterPort}/-/healthy`)).rejects.toThrow();
  }, 30_000);
});
