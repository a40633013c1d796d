import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { httpsPrometheusConfig, httpsWebConfig } from "./tls_mode.ts";

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "etl-tls-mode-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("HTTPS mode of the configuration", () => {
  it("puts every scrape job and the Alertmanager client on https with the CA, keeping their auth", () => {
    const config = httpsPrometheusConfig(parse(readFileSync("prometheus/prometheus.yml", "utf8")), "secrets/ca.crt");
    expect(config.scrape_configs.map((j: Record<string, unknown>) => [j.job_name, j.scheme, j.tls_config])).toEqual(
      ["etl-metrics", "etl-simulator", "prometheus", "alertmanager"].map((n) => [n, "https", { ca_file: "secrets/ca.crt" }]),
    );
    expect(config.scrape_configs[1].basic_auth).toEqual({ username: "metrics", password_file: "secrets/metrics_password" });
    expect(config.alerting.alertmanagers[0]).toMatchObject({ scheme: "https", tls_config: { ca_file: "secrets/ca.crt" } });
  });

  it("adds TLS 1.2 minimum to a web config and keeps its users", () => {
    expect(httpsWebConfig({ basic_auth_users: { admin: "$2b$..." } }, { certFile: "c.crt", keyFile: "c.key" })).toEqual({
      basic_auth_users: { admin: "$2b$..." },
      tls_server_config: { cert_file: "c.crt", key_file: "c.key", min_version: "TLS12" },
    });
  });

  it.skipIf(!hasPromtool && process.env.CI !== "true")("passes promtool check config (apt-get install prometheus)", () => {
    // promtool opens the files a configuration names: give it the CA and the rules next to it.
    writeFileSync(join(dir, "prometheus.yml"), stringify(httpsPrometheusConfig(parse(readFileSync("prometheus/prometheus.yml", "utf8")), "/etc/ssl/certs/ca-certificates.crt")));
    const run = spawnSync("promtool", ["check", "config", "--syntax-only", join(dir, "prometheus.yml")], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });
});
