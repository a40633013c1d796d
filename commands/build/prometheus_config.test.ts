import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";

// The bundle tests/global_setup.ts builds, as `npm run build:prometheus-config` runs it.
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ["dist/build-prometheus-config.mjs", ...args], { encoding: "utf8", env: { PATH: process.env.PATH!, ...env } });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const out = () => {
  const dir = mkdtempSync(join(tmpdir(), "etl-prom-config-"));
  dirs.push(dir);
  return dir;
};

describe("build:prometheus-config", () => {
  it("writes prometheus.yml without remote_write when no URL is set", () => {
    const dir = out();
    const result = run(["--out", dir]);
    expect(result.status).toBe(0);
    const written = parse(readFileSync(join(dir, "prometheus.yml"), "utf8")) as Record<string, unknown>;
    expect(written).toEqual(parse(readFileSync("prometheus/prometheus.yml", "utf8")));
  });

  it("adds the remote_write of the settings, from the environment and flags", () => {
    const dir = out();
    const result = run(["--out", dir, "--remote-write-tenant", "etl"], { ETL_REMOTE_WRITE_URL: "http://mimir.example.internal:8080/api/v1/push" });
    expect(result.status).toBe(0);
    const written = parse(readFileSync(join(dir, "prometheus.yml"), "utf8")) as { remote_write: Record<string, unknown>[] };
    expect(written.remote_write).toHaveLength(1);
    expect(written.remote_write[0]).toMatchObject({ url: "http://mimir.example.internal:8080/api/v1/push", headers: { "X-Scope-OrgID": "etl" } });
    expect(readFileSync(join(dir, "prometheus.yml"), "utf8")).toMatch(/^# Made from prometheus\/prometheus.yml .* remote write to mimir.example.internal:8080\./);
  });

  it("refuses settings that do not go together, exit 2, naming them", () => {
    const result = run(["--out", out(), "--remote-write-url", "http://x.example/api/v1/write", "--remote-write-username", "u"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("ETL_REMOTE_WRITE_USERNAME and ETL_REMOTE_WRITE_PASSWORD_FILE go together");
  });

  it("needs --out", () => {
    const result = run([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--out=undefined: is required");
  });
});
