import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { httpsGrafanaDatasources, httpsPrometheusConfig, httpsWebConfig, httpsWebConfigText } from "./tls_mode.ts";

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

  it("renders a web config's text with TLS, from the users of a plain one or from nothing", () => {
    expect(parse(httpsWebConfigText("basic_auth_users:\n  readonly: $2b$04$x\n", { certFile: "p.crt", keyFile: "p.key" }))).toEqual({
      basic_auth_users: { readonly: "$2b$04$x" },
      tls_server_config: { cert_file: "p.crt", key_file: "p.key", min_version: "TLS12" },
    });
    expect(httpsWebConfigText(undefined, { certFile: "a.crt", keyFile: "a.key" })).toBe(
      "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  min_version: TLS12\n",
    );
    expect(() => httpsWebConfigText("- a list\n", { certFile: "a.crt", keyFile: "a.key" })).toThrow(/not a YAML mapping/);
  });

  it("turns Grafana's data sources to https with the CA, keeping every other field (property)", () => {
    const field = fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z]{0,8}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 4 });
    fc.assert(fc.property(
      fc.array(fc.record({ name: fc.string(), url: fc.constantFrom("http://prometheus:9090", "http://h:1/p", "https://already:1"), jsonData: field, secureJsonData: field }), { maxLength: 3 }),
      (datasources) => {
        const out = httpsGrafanaDatasources({ apiVersion: 1, datasources }, "/ca.crt");
        expect(out.datasources).toHaveLength(datasources.length);
        out.datasources.forEach((d, i) => {
          const before = datasources[i]!;
          expect(d.name).toBe(before.name);
          expect(d.url).toBe(before.url.replace(/^http:/, "https:"));
          expect(d.jsonData).toEqual({ ...before.jsonData, tlsAuthWithCACert: true });
          expect(d.secureJsonData).toEqual({ ...before.secureJsonData, tlsCACert: "$__file{/ca.crt}" });
        });
      },
    ));
  });
});
