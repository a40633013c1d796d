// Grafana's provisioning and settings, read the way Grafana reads them
// (YAML, and KEY=value lines for the env file) and held to what the stack
// needs: the data source as the readonly user with the password from a
// file, the dashboard from the generated JSON and undeletable, no
// anonymous admin, no sign-up, the admin password from the generated secret.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, posix } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { credentialSpec } from "../lib/secrets/secrets_layout.ts";
import { findSecretsInText } from "../commands/secrets/scan.ts";
import { DEFAULT_PORTS } from "../commands/stack/native.ts";
import { DASHBOARD_PATH, PROMETHEUS_DATASOURCE_UID } from "../lib/dashboard/dashboard.ts";

const DATASOURCES = "grafana/provisioning/datasources/prometheus.yml";
const DASHBOARDS = "grafana/provisioning/dashboards/etl.yml";
const ENV = "grafana/grafana.env";
/** Where Compose mounts secrets/ in the Grafana container (documented in grafana/README.md). */
const SECRETS_MOUNT = "/run/secrets";
/** Where Compose mounts grafana/dashboards (documented in grafana/README.md). */
const DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards";

interface Datasource {
  name: string;
  uid: string;
  type: string;
  access: string;
  url: string;
  isDefault?: boolean;
  editable?: boolean;
  basicAuth?: boolean;
  basicAuthUser?: string;
  secureJsonData?: Record<string, string>;
  jsonData?: Record<string, unknown>;
  [key: string]: unknown;
}

const yaml = <T>(path: string) => parse(readFileSync(path, "utf8")) as T;

/** KEY=value lines as Compose's env_file reads them: comments and blank lines skipped, no quoting. */
function parseEnvFile(text: string): { entries: Array<[string, string]>; bad: string[] } {
  const entries: Array<[string, string]> = [];
  const bad: string[] = [];
  for (const line of text.split("\n")) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m === null) bad.push(line);
    else entries.push([m[1]!, m[2]!]);
  }
  return { entries, bad };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe("the Prometheus data source", () => {
  const file = yaml<{ apiVersion: number; datasources: Datasource[] }>(DATASOURCES);
  const ds = file.datasources[0]!;

  it("is the one data source, with the uid the dashboard uses", () => {
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    expect(ds).toMatchObject({ uid: "prometheus", type: "prometheus", access: "proxy", isDefault: true, editable: false });
    expect(ds.uid).toBe(PROMETHEUS_DATASOURCE_UID);
  });

  it("reaches Compose's Prometheus service", () => {
    expect(ds.url).toBe(`http://prometheus:${DEFAULT_PORTS.prometheus}`);
  });

  it("authenticates as the readonly user, the password read from the secret file, never written here", () => {
    const readonly = credentialSpec("prometheus_readonly");
    expect(ds.basicAuth).toBe(true);
    expect(ds.basicAuthUser).toBe(readonly.user);
    expect(ds.secureJsonData).toEqual({ basicAuthPassword: `$__file{${posix.join(SECRETS_MOUNT, readonly.passwordFile)}}` });
    // No password anywhere else: not in jsonData, not the deprecated top-level fields.
    expect(ds).not.toHaveProperty("password");
    expect(ds).not.toHaveProperty("basicAuthPassword");
    expect(JSON.stringify(ds.jsonData)).not.toMatch(/password/i);
  });

  it("lists the Prometheus-managed alert rules in Grafana, and knows the scrape interval for $__rate_interval", () => {
    expect(ds.jsonData).toMatchObject({ manageAlerts: true, httpMethod: "POST" });
    const prometheus = yaml<{ global: { scrape_interval: string } }>("prometheus/prometheus.yml");
    expect(ds.jsonData!.timeInterval).toBe(prometheus.global.scrape_interval);
  });
});

describe("the dashboard provider", () => {
  const file = yaml<{ apiVersion: number; providers: Array<Record<string, unknown> & { options: Record<string, unknown> }> }>(DASHBOARDS);
  const provider = file.providers[0]!;

  it("loads the generated dashboards, which cannot be deleted or changed from the UI", () => {
    expect(file.apiVersion).toBe(1);
    expect(file.providers).toHaveLength(1);
    expect(provider).toMatchObject({ type: "file", disableDeletion: true, allowUiUpdates: false });
    expect(provider.options.path).toBe(DASHBOARDS_MOUNT);
  });

  it("points where Compose mounts grafana/dashboards, which holds the generated JSON", () => {
    expect(posix.dirname(DASHBOARD_PATH)).toBe("grafana/dashboards");
    expect(readdirSync("grafana/dashboards")).toEqual([basename(DASHBOARD_PATH)]);
  });
});

describe("Grafana's own access (grafana/grafana.env)", () => {
  const { entries, bad } = parseEnvFile(readFileSync(ENV, "utf8"));
  const env = new Map(entries);

  it("is plain KEY=value lines, each key once", () => {
    expect(bad).toEqual([]);
    expect(new Set(entries.map(([k]) => k)).size).toBe(entries.length);
  });

  it("has no anonymous access and no sign-up", () => {
    expect(env.get("GF_AUTH_ANONYMOUS_ENABLED")).toBe("false");
    expect(env.has("GF_AUTH_ANONYMOUS_ORG_ROLE")).toBe(false);
    expect(env.get("GF_USERS_ALLOW_SIGN_UP")).toBe("false");
    expect(env.get("GF_USERS_ALLOW_ORG_CREATE")).toBe("false");
  });

  it("takes the admin password from the generated secret, never a literal", () => {
    const admin = credentialSpec("grafana_admin");
    expect(env.get("GF_SECURITY_ADMIN_USER")).toBe(admin.user);
    expect(env.get("GF_SECURITY_ADMIN_PASSWORD__FILE")).toBe(posix.join(SECRETS_MOUNT, admin.passwordFile));
    expect(env.has("GF_SECURITY_ADMIN_PASSWORD")).toBe(false);
  });

  it("makes the dashboard the home page and calls no outside service", () => {
    expect(env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")).toBe(posix.join(DASHBOARDS_MOUNT, basename(DASHBOARD_PATH)));
    for (const key of ["GF_ANALYTICS_REPORTING_ENABLED", "GF_ANALYTICS_CHECK_FOR_UPDATES", "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "GF_NEWS_NEWS_FEED_ENABLED"]) {
      expect(env.get(key), key).toBe("false");
    }
  });
});

describe("all of grafana/", () => {
  it("holds no password, hash, key or token (the repository's secret scan, on these files)", () => {
    const findings = filesUnder("grafana").flatMap((f) => findSecretsInText(f, readFileSync(f, "utf8")));
    expect(findings).toEqual([]);
  });

  it("provisions no Grafana-managed alerting: the rules are Prometheus's, listed through manageAlerts", () => {
    expect(existsSync("grafana/provisioning/alerting")).toBe(false);
    expect(readdirSync("grafana/provisioning").sort()).toEqual(["dashboards", "datasources"]);
  });

  it("parses every provisioning file", () => {
    for (const f of filesUnder("grafana/provisioning")) {
      expect(f).toMatch(/\.ya?ml$/);
      expect(() => parse(readFileSync(f, "utf8")), f).not.toThrow();
    }
  });
});

// Grafana cannot run where the tests run: the TLS mode's data source is held,
// offline, to the fields Grafana's Prometheus data source reads for a CA
// (jsonData.tlsAuthWithCACert, secureJsonData.tlsCACert) and to the plain one.
describe("the Prometheus data source over HTTPS (grafana/provisioning-tls/, the Compose TLS mode)", () => {
  const TLS_DATASOURCES = "grafana/provisioning-tls/datasources/prometheus.yml";
  const plain = yaml<{ apiVersion: number; datasources: Datasource[] }>(DATASOURCES);
  const file = yaml<{ apiVersion: number; datasources: Datasource[] }>(TLS_DATASOURCES);
  const ds = file.datasources[0]!;

  it("is the plain data source on https://prometheus:9090, trusting the CA read from its secret file", () => {
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    expect(ds.url).toBe(`https://prometheus:${DEFAULT_PORTS.prometheus}`);
    expect(ds.jsonData).toEqual({ ...plain.datasources[0]!.jsonData, tlsAuthWithCACert: true });
    expect(ds.secureJsonData).toEqual({
      basicAuthPassword: `$__file{${posix.join(SECRETS_MOUNT, credentialSpec("prometheus_readonly").passwordFile)}}`,
      tlsCACert: `$__file{${posix.join(SECRETS_MOUNT, "ca.crt")}}`,
    });
    const { url: _u, jsonData: _j, secureJsonData: _s, ...rest } = ds;
    const { url: _pu, jsonData: _pj, secureJsonData: _ps, ...plainRest } = plain.datasources[0]!;
    expect(rest).toEqual(plainRest);
  });

  it("neither skips verification nor holds a certificate or key itself", () => {
    expect(ds.jsonData).not.toHaveProperty("tlsSkipVerify");
    expect(ds.jsonData).not.toHaveProperty("tlsAuth");
    expect(readFileSync(TLS_DATASOURCES, "utf8")).not.toMatch(/BEGIN/);
  });
});
