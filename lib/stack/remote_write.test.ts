import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { alertRulesYaml, toYaml } from "../alerts/rules.ts";
import { certificateRulesYaml } from "../alerts/certificate_rules.ts";
import { parseSettings } from "../config/settings.ts";
import { REMOTE_WRITE_EXAMPLES, REMOTE_WRITE_SETTINGS, type RemoteWriteSettings, remoteWriteConfigs, remoteWriteProblems, withRemoteWrite } from "./remote_write.ts";
import { LOCAL_ADDRESSES, renderTargetFiles } from "./targets.ts";

const settings = (env: Record<string, string>): RemoteWriteSettings => {
  const parsed = parseSettings(REMOTE_WRITE_SETTINGS, env, []);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.values;
};
const repoConfig = () => parse(readFileSync("prometheus/prometheus.yml", "utf8")) as Record<string, unknown>;
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const required = process.env.CI === "true";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("remote write settings", () => {
  it("is off by default: the configuration stays exactly as it was", () => {
    expect(remoteWriteConfigs(settings({}))).toEqual([]);
    expect(withRemoteWrite(repoConfig(), settings({}))).toEqual(repoConfig());
  });

  it("writes basic auth, bearer and tenant from files and settings, with the queue settings", () => {
    expect(remoteWriteConfigs(settings({ ...REMOTE_WRITE_EXAMPLES.grafanaCloud, ETL_REMOTE_WRITE_MAX_SHARDS: "10" }))).toEqual([{
      name: "long-term",
      url: "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom/push",
      basic_auth: { username: "123456", password_file: "secrets/grafana_cloud_token" },
      queue_config: { capacity: 2500, max_shards: 10, max_samples_per_send: 500, batch_send_deadline: "5s", max_backoff: "5s" },
    }]);
    const [thanos] = remoteWriteConfigs(settings(REMOTE_WRITE_EXAMPLES.thanosReceive));
    expect(thanos).toMatchObject({ headers: { "THANOS-TENANT": "etl" } });
    const [vm] = remoteWriteConfigs(settings(REMOTE_WRITE_EXAMPLES.victoriaMetrics));
    expect(vm).toMatchObject({ authorization: { type: "Bearer", credentials_file: "secrets/remote_write_token" } });
    expect(vm).not.toHaveProperty("basic_auth");
  });

  it("replaces an earlier remote_write block instead of adding to it", () => {
    const once = withRemoteWrite(repoConfig(), settings(REMOTE_WRITE_EXAMPLES.mimir));
    const twice = withRemoteWrite(once, settings(REMOTE_WRITE_EXAMPLES.mimir));
    expect(twice).toEqual(once);
    expect(withRemoteWrite(once, settings({}))).toEqual(repoConfig());
  });

  it("refuses settings that do not go together, and bad values, with the setting's name", () => {
    expect(remoteWriteProblems(settings({ ETL_REMOTE_WRITE_URL: "http://x/api", ETL_REMOTE_WRITE_USERNAME: "u" })))
      .toEqual(["ETL_REMOTE_WRITE_USERNAME and ETL_REMOTE_WRITE_PASSWORD_FILE go together"]);
    expect(remoteWriteProblems(settings({ ...REMOTE_WRITE_EXAMPLES.grafanaCloud, ETL_REMOTE_WRITE_BEARER_TOKEN_FILE: "t" })))
      .toEqual(["ETL_REMOTE_WRITE_PASSWORD_FILE (basic auth) and ETL_REMOTE_WRITE_BEARER_TOKEN_FILE (bearer) exclude each other"]);
    expect(remoteWriteProblems(settings({ ETL_REMOTE_WRITE_TENANT: "t" }))).toEqual(["remote write settings given without ETL_REMOTE_WRITE_URL"]);
    expect(() => remoteWriteConfigs(settings({ ETL_REMOTE_WRITE_TENANT: "t" }))).toThrow(/without ETL_REMOTE_WRITE_URL/);
    const bad = parseSettings(REMOTE_WRITE_SETTINGS, { ETL_REMOTE_WRITE_URL: "file:///etc/passwd", ETL_REMOTE_WRITE_BATCH_SEND_DEADLINE: "soon" }, []);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.message).toContain('ETL_REMOTE_WRITE_URL="file:///etc/passwd": must be an http(s) URL');
      expect(bad.message).toContain('ETL_REMOTE_WRITE_BATCH_SEND_DEADLINE="soon"');
    }
  });

  it("documents every backend's settings in docs/remote-write.md", () => {
    const page = readFileSync("docs/remote-write.md", "utf8");
    for (const env of Object.values(REMOTE_WRITE_EXAMPLES)) for (const [k, v] of Object.entries(env)) expect(page).toContain(`${k}=${v}`);
    for (const s of Object.values(REMOTE_WRITE_SETTINGS)) expect(page).toContain(s.env);
  });
});

describe.skipIf(!hasPromtool && !required)("promtool check config with remote write on and off (apt-get install prometheus)", () => {
  /** prometheus.yml laid out as the stacks lay it out: rules/, targets/ and secrets/ beside it. */
  function check(config: Record<string, unknown>) {
    const dir = mkdtempSync(join(tmpdir(), "etl-remote-write-"));
    dirs.push(dir);
    for (const sub of ["rules", "targets", "secrets"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "rules/etl-alerts.yml"), alertRulesYaml());
    writeFileSync(join(dir, "rules/etl-certificates.yml"), certificateRulesYaml());
    for (const [file, text] of Object.entries(renderTargetFiles(LOCAL_ADDRESSES))) writeFileSync(join(dir, "targets", file), text);
    for (const f of ["metrics_password", "prometheus_readonly_password", "remote_write_token", "grafana_cloud_token"]) writeFileSync(join(dir, "secrets", f), "x\n");
    writeFileSync(join(dir, "prometheus.yml"), toYaml(config));
    return spawnSync("promtool", ["check", "config", "prometheus.yml"], { cwd: dir, encoding: "utf8" });
  }

  it.each([["off", {}], ...Object.entries(REMOTE_WRITE_EXAMPLES)] as const)("passes with remote write %s", (_name, env) => {
    const run = check(withRemoteWrite(repoConfig(), settings(env)));
    expect(run.stdout + run.stderr).toContain("SUCCESS: prometheus.yml is valid prometheus config file syntax");
    expect(run.stdout + run.stderr).not.toContain("WARNING");
    expect(run.status).toBe(0);
  });

  it("fails on a broken block (the check can fail)", () => {
    const config = withRemoteWrite(repoConfig(), settings(REMOTE_WRITE_EXAMPLES.grafanaCloud));
    (config.remote_write as Record<string, unknown>[])[0]!.authorization = { type: "Bearer", credentials_file: "secrets/remote_write_token" };
    const run = check(config);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/at most one of basic_auth, oauth2 .*authorization/);
  });
});
