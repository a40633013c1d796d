import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { serverFiles, TLS_SERVICES } from "../secrets/certificates.ts";
import { certificateShareFiles, CONTAINER_SECRETS, secretSourcePath, TLS_CONTAINER_SECRETS } from "../secrets/container_secrets.ts";
import {
  ALERTMANAGER_TLS_CONFIG,
  COMPOSE_TLS_FILE,
  composeTlsFiles,
  composeTlsOverride,
  ETL_TLS_SERVICES,
  PLAIN_SOURCES,
  PROMETHEUS_TLS_CONFIG,
  SECRETS_MOUNTS,
  tlsOnlySecretFiles,
} from "./compose_tls.ts";

const dir = mkdtempSync(join(tmpdir(), "etl-compose-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const has = (tool: string) => spawnSync(tool, ["--version"]).status === 0;
const ci = process.env.CI === "true";
const rendered = composeTlsFiles({
  prometheusYml: readFileSync(PLAIN_SOURCES.prometheusYml, "utf8"),
  grafanaDatasources: readFileSync(PLAIN_SOURCES.grafanaDatasources, "utf8"),
});

interface OverrideService {
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  command?: string[];
  healthcheck?: { test: string[] };
}
const override = composeTlsOverride() as { services: Record<string, OverrideService>; secrets: Record<string, { file: string }> };

describe("the Compose TLS mode's files", () => {
  it("are current (run npm run build:compose-tls after changing lib/stack/compose_tls.ts or the plain files)", () => {
    for (const [path, text] of Object.entries(rendered)) expect(readFileSync(path, "utf8"), path).toBe(text);
    expect(parse(readFileSync(COMPOSE_TLS_FILE, "utf8"))).toEqual(override);
  });

  it("hand the init service the CA and every service's certificate and key, from secrets/ and secrets/tls/, never the CA's key", () => {
    expect(tlsOnlySecretFiles()).toEqual([
      "alertmanager.crt", "alertmanager.key", "ca.crt",
      "etl-alert-receiver.crt", "etl-alert-receiver.key", "etl-metrics.crt", "etl-metrics.key",
      "etl-simulator.crt", "etl-simulator.key", "grafana.crt", "grafana.key", "prometheus.crt", "prometheus.key",
    ]);
    expect(override.services["etl-secrets-init"]!.secrets).toEqual(tlsOnlySecretFiles());
    expect(override.secrets["ca.crt"]).toEqual({ file: "${ETL_SECRETS_DIR:-../../secrets}/ca.crt" });
    for (const service of TLS_SERVICES) {
      const files = certificateShareFiles(service);
      expect(override.secrets[files.cert]).toEqual({ file: `\${ETL_SECRETS_DIR:-../../secrets}/${serverFiles(service).cert}` });
      expect(override.secrets[files.key]).toEqual({ file: `\${ETL_SECRETS_DIR:-../../secrets}/${serverFiles(service).key}` });
      expect(secretSourcePath(files.key)).toBe(serverFiles(service).key);
    }
    expect(JSON.stringify(override)).not.toContain("ca.key");
    expect(override.services["etl-secrets-init"]!.environment).toEqual({ ETL_SECRETS_TLS: "1" });
  });

  it("give each of our services its own certificate, from its share, and the health check the CA", () => {
    for (const service of ETL_TLS_SERVICES) {
      const env = override.services[service]!.environment!;
      expect(env).toEqual({
        ETL_TLS_CERT_FILE: `/run/secrets/${service}.crt`,
        ETL_TLS_KEY_FILE: `/run/secrets/${service}.key`,
        ETL_HEALTHCHECK_CA_FILE: "/run/secrets/ca.crt",
      });
      for (const path of Object.values(env)) expect(TLS_CONTAINER_SECRETS.etl.files).toContain(path.slice(SECRETS_MOUNTS.etl.length + 1));
    }
    const grafana = override.services.grafana!.environment!;
    for (const path of [grafana.GF_SERVER_CERT_FILE!, grafana.GF_SERVER_CERT_KEY!]) {
      expect(TLS_CONTAINER_SECRETS.grafana.files).toContain(path.slice(SECRETS_MOUNTS.grafana.length + 1));
    }
  });

  it("keep every plain share, adding only the CA and the certificates", () => {
    for (const [name, share] of Object.entries(TLS_CONTAINER_SECRETS)) {
      const plain = CONTAINER_SECRETS[name as keyof typeof CONTAINER_SECRETS];
      expect(share.files.slice(0, plain.files.length)).toEqual(plain.files);
      expect(share.files.slice(plain.files.length).every((f) => /\.(crt|key)$/.test(f))).toBe(true);
      expect([share.uid, share.gid]).toEqual([plain.uid, plain.gid]);
    }
    expect(TLS_CONTAINER_SECRETS.alertmanager.files).toEqual(["receiver_password", "ca.crt", "alertmanager.crt", "alertmanager.key"]);
  });

  it("ask every health check over HTTPS", () => {
    expect(override.services.alertmanager!.healthcheck!.test.at(-1)).toBe("https://127.0.0.1:9093/-/healthy");
    expect(override.services.prometheus!.healthcheck!.test[1]).toMatch(/"https:\/\/readonly:\$\$\(cat \/etc\/prometheus\/secrets\/prometheus_readonly_password\)@127\.0\.0\.1:9090\/-\/healthy"$/);
    expect(override.services.grafana!.healthcheck!.test.at(-1)).toBe("https://127.0.0.1:3000/api/health");
  });

  it("render Alertmanager's configuration with the receiver over HTTPS and the CA, otherwise the plain one", () => {
    const tls = parse(rendered[ALERTMANAGER_TLS_CONFIG]!);
    const plain = parse(readFileSync("prometheus/alertmanager.yml", "utf8"));
    expect(tls.receivers[0].webhook_configs[0]).toEqual({
      url: "https://etl-alert-receiver:9095/webhook",
      send_resolved: true,
      http_config: { basic_auth: { username: "alertmanager", password_file: "secrets/receiver_password" }, tls_config: { ca_file: "secrets/ca.crt" } },
    });
    expect({ ...tls, receivers: undefined }).toEqual({ ...plain, receivers: undefined });
  });

  it.skipIf(!has("amtool") && !ci)("pass amtool check-config (apt-get install prometheus-alertmanager)", () => {
    mkdirSync(join(dir, "am/secrets"), { recursive: true });
    writeFileSync(join(dir, "am/alertmanager.yml"), rendered[ALERTMANAGER_TLS_CONFIG]!);
    writeFileSync(join(dir, "am/secrets/receiver_password"), "x\n");
    copyFileSync("/etc/ssl/certs/ca-certificates.crt", join(dir, "am/secrets/ca.crt"));
    const run = spawnSync("amtool", ["check-config", join(dir, "am/alertmanager.yml")], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });

  it.skipIf(!has("promtool") && !ci)("pass promtool check config, every scrape and the Alertmanager client on https with the CA", () => {
    const config = parse(rendered[PROMETHEUS_TLS_CONFIG]!);
    expect(config.scrape_configs.map((j: { scheme: string; tls_config: unknown }) => [j.scheme, j.tls_config])).toEqual(
      Array(4).fill(["https", { ca_file: "secrets/ca.crt" }]),
    );
    expect(config.alerting.alertmanagers[0]).toMatchObject({ scheme: "https", tls_config: { ca_file: "secrets/ca.crt" } });
    mkdirSync(join(dir, "prom"), { recursive: true });
    writeFileSync(join(dir, "prom/prometheus.yml"), rendered[PROMETHEUS_TLS_CONFIG]!);
    const run = spawnSync("promtool", ["check", "config", "--syntax-only", join(dir, "prom/prometheus.yml")], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });
});
