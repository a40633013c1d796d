// The Compose file and the Dockerfile, checked without an engine: Debian's
// docker-compose validates the file, and its settings are held to the rules
// of the stack and to the sources in lib/ they must agree with.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { STACK_CREDENTIALS } from "../../lib/secrets/secrets_layout.ts";
import { CONTAINER_SECRETS, secretFilesNeeded, TLS_CONTAINER_SECRETS } from "../../lib/secrets/container_secrets.ts";
import { PUBLISHED_PORTS } from "../../lib/stack/published_ports.ts";
import { alertmanagerFlags, prometheusFlags } from "../../lib/stack/prometheus_flags.ts";
import { ensureStackSecrets } from "../../commands/secrets/store.ts";
import { ensureCertificates } from "../../commands/secrets/ca.ts";
import { tempDir } from "../../tests/harness.ts";

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, "../..");
const COMPOSE_FILE = join(HERE, "docker-compose.yml");
const DOCKERFILE = readFileSync(join(HERE, "Dockerfile"), "utf8");

interface Service {
  image: string;
  build?: { context: string; dockerfile: string; target: string; args: Record<string, string> };
  command?: string[];
  ports?: string[];
  volumes?: string[];
  secrets?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  mem_limit?: string;
  cpus?: number;
  user?: string;
  restart?: string;
}
const compose = parse(readFileSync(COMPOSE_FILE, "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, { name: string }>;
};
type ServiceName = "etl-secrets-init" | (typeof LONG_RUNNING)[number];
const services = compose.services as Record<string, Service> & Record<ServiceName, Service>;
const LONG_RUNNING = ["etl-simulator", "etl-metrics", "etl-alert-receiver", "alertmanager", "prometheus", "grafana"] as const;
const BUILT = ["etl-secrets-init", "etl-simulator", "etl-metrics", "etl-alert-receiver"];

describe("docker-compose config (Debian's docker-compose 1.29)", () => {
  const available = spawnSync("docker-compose", ["version"]).status === 0;
  const required = process.env.CI === "true";
  if (!available && !required) console.warn("docker-compose tests skipped: apt-get install --no-install-recommends docker-compose");
  let secretsDir: string;
  beforeAll(async () => {
    secretsDir = tempDir("compose-secrets-");
    await ensureStackSecrets(secretsDir, { cost: 4 });
    await ensureCertificates(secretsDir);
  });

  const config = (env: Record<string, string>) =>
    spawnSync("docker-compose", ["-f", COMPOSE_FILE, "config"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, ETL_SECRETS_DIR: secretsDir, ...env },
    });

  it.runIf(available || required)("accepts the file, with every secret file present", () => {
    const result = config({});
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const resolved = parse(result.stdout) as { services: Record<string, Service>; secrets: Record<string, { file: string }> };
    expect(Object.keys(resolved.services).sort()).toEqual([...LONG_RUNNING, "etl-secrets-init"].sort());
    expect(resolved.secrets["metrics_password"]!.file).toBe(join(secretsDir, "metrics_password"));
  });

  it.runIf(available || required)("accepts the TLS override on top (stack up --tls), which changes only what HTTPS needs", () => {
    const result = spawnSync("docker-compose", ["-f", COMPOSE_FILE, "-f", join(HERE, "docker-compose.tls.yml"), "config"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, ETL_SECRETS_DIR: secretsDir },
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const resolved = parse(result.stdout) as { services: Record<string, Service & { environment?: Record<string, string> }>; secrets: Record<string, { file: string }> };
    const plain = parse(config({}).stdout) as typeof resolved;
    const init = resolved.services["etl-secrets-init"]!;
    expect((init.secrets as unknown as { source: string }[]).map((s) => s.source).sort()).toEqual(secretFilesNeeded(TLS_CONTAINER_SECRETS));
    expect(resolved.secrets["etl-metrics.key"]!.file).toBe(join(secretsDir, "tls/etl-metrics.key"));
    expect(resolved.services.alertmanager!.command).toEqual(alertmanagerFlags({
      configFile: "/etc/alertmanager/alertmanager.yml",
      dataDir: "/alertmanager",
      listenAddress: "0.0.0.0:9093",
      webConfigFile: "/etc/alertmanager/secrets/alertmanager-web.yml",
    }));
    // The HTTPS configurations replace the plain ones at the same place; the rest of each mount list stays.
    const mounts = (s: Service | undefined) => (s?.volumes ?? []).map((v) => v.replace(ROOT, "."));
    expect(mounts(resolved.services.prometheus).filter((v) => !mounts(plain.services.prometheus).includes(v))).toEqual(["./prometheus/prometheus.tls.yml:/etc/prometheus/prometheus.yml:ro"]);
    expect(mounts(resolved.services.alertmanager).filter((v) => !mounts(plain.services.alertmanager).includes(v))).toEqual(["./prometheus/alertmanager.tls.yml:/etc/alertmanager/alertmanager.yml:ro"]);
    expect(mounts(resolved.services.prometheus).length).toBe(mounts(plain.services.prometheus).length);
    expect(resolved.services.prometheus!.command).toEqual(plain.services.prometheus!.command);
    // The health checks keep their timings, only the test changes.
    const { test: _t, ...timing } = resolved.services.prometheus!.healthcheck as { test: string[] };
    const { test: _p, ...plainTiming } = plain.services.prometheus!.healthcheck as { test: string[] };
    expect(timing).toEqual(plainTiming);
    // Nothing else: ports, limits, images and users are those of the plain file.
    for (const [name, service] of Object.entries(plain.services)) {
      const tls = resolved.services[name]!;
      for (const key of ["ports", "mem_limit", "cpus", "image", "user", "restart"] as const) expect(tls[key], `${name} ${key}`).toEqual(service[key]);
    }
  });

  it.runIf(available || required)("publishes on 127.0.0.1 by default and on ETL_BIND_ADDRESS when set", () => {
    const byDefault = config({}).stdout;
    const exposed = config({ ETL_BIND_ADDRESS: "0.0.0.0", ETL_GRAFANA_PORT: "3001" }).stdout;
    const published = (text: string) =>
      Object.fromEntries(
        Object.entries((parse(text) as { services: Record<string, { ports?: unknown[] }> }).services)
          .filter(([, s]) => s.ports)
          .map(([name, s]) => [name, JSON.stringify(s.ports)]),
      );
    expect(Object.values(published(byDefault)).every((p) => p.includes('"127.0.0.1"') || p.includes("127.0.0.1:"))).toBe(true);
    expect(published(exposed).grafana).toContain("3001");
    expect(Object.values(published(exposed)).every((p) => p.includes("0.0.0.0"))).toBe(true);
  });
});

describe("the services", () => {
  it("are the reference stack's four, Alertmanager, the receiver and the secrets init", () => {
    expect(Object.keys(services).sort()).toEqual([...LONG_RUNNING, "etl-secrets-init"].sort());
  });

  it("publish the reference ports, on 127.0.0.1 unless ETL_BIND_ADDRESS says otherwise, with the CLI's variables", () => {
    const ports = Object.fromEntries(Object.entries(services).filter(([, s]) => s.ports).map(([n, s]) => [n, s.ports]));
    expect(ports).toEqual(Object.fromEntries(PUBLISHED_PORTS.map((p) => [
      p.service,
      [`\${ETL_BIND_ADDRESS:-127.0.0.1}:\${${p.env}:-${p.defaultPort}}:${p.containerPort}`],
    ])));
    expect(Object.fromEntries(PUBLISHED_PORTS.map((p) => [p.service, [p.env, p.defaultPort, p.containerPort]]))).toEqual({
      "etl-simulator": ["ETL_SIMULATOR_PORT", 8000, 8000],
      "etl-metrics": ["ETL_EXPORTER_PORT", 8083, 8083],
      "etl-alert-receiver": ["ETL_RECEIVER_PORT", 9095, 9095],
      alertmanager: ["ETL_ALERTMANAGER_PORT", 9093, 9093],
      prometheus: ["ETL_PROMETHEUS_PORT", 9090, 9090],
      grafana: ["ETL_GRAFANA_PORT", 3000, 3000],
    });
  });

  it("pin every image and base image to a version, never latest", () => {
    const images = Object.values(services).map((s) => s.image);
    const defaults = images.map((image) => image.match(/^\$\{[A-Z_]+:-(.+)\}$/)?.[1] ?? image);
    expect(defaults.sort()).toEqual([
      "etl-monitoring/etl-alert-receiver:0.1.0",
      "etl-monitoring/etl-metrics:0.1.0",
      "etl-monitoring/etl-secrets-init:0.1.0",
      "etl-monitoring/etl-simulator:0.1.0",
      "grafana/grafana:13.2.3",
      "prom/alertmanager:v0.28.1",
      "prom/prometheus:v3.5.0",
    ]);
    const nodeImage = services["etl-metrics"].build!.args.NODE_IMAGE;
    expect(nodeImage).toBe("${ETL_NODE_IMAGE:-node:24.11.1-bookworm-slim}");
    expect(DOCKERFILE).toContain("ARG NODE_IMAGE=node:24.11.1-bookworm-slim\n");
  });

  it("have memory and CPU limits, and the long-running ones restart", () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.mem_limit, name).toMatch(/^\d+[mg]$/);
      expect(service.cpus, name).toBeGreaterThan(0);
      expect(service.restart, name).toBe(name === "etl-secrets-init" ? "no" : "unless-stopped");
    }
  });

  it("have a health check: in the Compose file, or the Dockerfile's for the images built here", () => {
    for (const name of LONG_RUNNING) {
      const service = services[name];
      if (service.build) {
        expect(service.healthcheck, name).toBeUndefined();
        const stageOf = (target: string) => DOCKERFILE.split(/^FROM /m).find((s) => s.includes(`AS ${target}\n`))!;
        const stage = stageOf(service.build!.target);
        // The shared stage checks the port its service's stage names.
        expect(stage, name).toMatch(/^service AS /);
        const portVariable = /SERVICE_PORT_VARIABLE=([A-Z_]+_PORT)\n/.exec(stage)![1]!;
        expect(stage, name).toMatch(new RegExp(`ENV ${portVariable}=\\d+ `));
        // Plain HTTP, or HTTPS trusting the CA the TLS override names (checked live by tests/compose.e2e.test.ts).
        expect(stageOf("service")).toMatch(/HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "-e", "const ca = process\.env\.ETL_HEALTHCHECK_CA_FILE; const url = \(ca \? 'https' : 'http'\) \+ ':\/\/127\.0\.0\.1:' \+ process\.env\[process\.env\.SERVICE_PORT_VARIABLE\] \+ '\/-\/healthy'/);
      } else {
        expect(service.healthcheck!.test[0], name).toMatch(/^CMD/);
      }
    }
  });

  it("start in order: secrets first, Prometheus after Alertmanager, Grafana after Prometheus", () => {
    const dependencies = Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition])),
      ]),
    );
    expect(dependencies).toEqual({
      "etl-secrets-init": {},
      "etl-simulator": { "etl-secrets-init": "service_completed_successfully" },
      "etl-metrics": {},
      "etl-alert-receiver": { "etl-secrets-init": "service_completed_successfully" },
      alertmanager: { "etl-secrets-init": "service_completed_successfully", "etl-alert-receiver": "service_started" },
      prometheus: {
        "etl-secrets-init": "service_completed_successfully",
        alertmanager: "service_healthy",
        // Started, not healthy: Prometheus must run to report an exporter that is not.
        "etl-metrics": "service_started",
        "etl-simulator": "service_started",
      },
      grafana: { "etl-secrets-init": "service_completed_successfully", prometheus: "service_healthy" },
    });
  });

  it("run Prometheus and Alertmanager with the flags lib/stack/prometheus_flags.ts gives the native stack", () => {
    expect(services.prometheus.command).toEqual(prometheusFlags({
      configFile: "/etc/prometheus/prometheus.yml",
      webConfigFile: "/etc/prometheus/secrets/prometheus-web.yml",
      dataDir: "/prometheus",
      listenAddress: "0.0.0.0:9090",
    }));
    expect(services.alertmanager.command).toEqual(alertmanagerFlags({
      configFile: "/etc/alertmanager/alertmanager.yml",
      dataDir: "/alertmanager",
      listenAddress: "0.0.0.0:9093",
    }));
  });

  it("keep data in named volumes with fixed names, the logs shared by simulator and exporter", () => {
    for (const [key, volume] of Object.entries(compose.volumes)) expect(volume.name).toBe(`etl-monitoring-${key}`);
    expect(services["etl-simulator"].volumes).toContain("etl-logs:/data");
    expect(services["etl-metrics"].volumes).toContain("etl-logs:/data");
    expect(services.prometheus.volumes).toContain("prometheus-data:/prometheus");
    expect(services.grafana.volumes).toContain("grafana-data:/var/lib/grafana");
    expect(services.alertmanager.volumes).toContain("alertmanager-data:/alertmanager");
  });
});

describe("the credentials", () => {
  it("reach the init service as Compose secrets: exactly the files lib/secrets/container_secrets.ts shares", () => {
    expect([...services["etl-secrets-init"].secrets!].sort()).toEqual(secretFilesNeeded(CONTAINER_SECRETS));
    expect(Object.keys(compose.secrets).sort()).toEqual(secretFilesNeeded(CONTAINER_SECRETS));
    for (const [name, secret] of Object.entries(compose.secrets)) {
      expect(secret.file).toBe(`\${ETL_SECRETS_DIR:-../../secrets}/${name}`);
    }
    expect(services["etl-secrets-init"].user).toBe("0:0");
    expect(services["etl-secrets-init"].volumes!.sort()).toEqual(
      Object.keys(CONTAINER_SECRETS).map((name) => `secrets-${name}:/secrets-out/${name}`).sort(),
    );
  });

  it("are mounted read-only, each service only its own share, where its configuration reads them", () => {
    const secretMounts = Object.fromEntries(
      Object.entries(services)
        .filter(([name]) => name !== "etl-secrets-init")
        .map(([name, s]) => [name, (s.volumes ?? []).filter((v) => v.startsWith("secrets-"))]),
    );
    expect(secretMounts).toEqual({
      "etl-simulator": ["secrets-etl:/run/secrets:ro"],
      "etl-metrics": ["secrets-etl:/run/secrets:ro"],
      "etl-alert-receiver": ["secrets-etl:/run/secrets:ro"],
      alertmanager: ["secrets-alertmanager:/etc/alertmanager/secrets:ro"],
      prometheus: ["secrets-prometheus:/etc/prometheus/secrets:ro"],
      grafana: ["secrets-grafana:/run/secrets:ro"],
    });
  });

  it("are files the services' settings point at", () => {
    const environment = (name: string) => (services[name] as unknown as { environment: Record<string, string> }).environment;
    const etlFiles = new Set(CONTAINER_SECRETS.etl.files.map((f) => `/run/secrets/${f}`));
    for (const value of [...Object.values(environment("etl-simulator")), ...Object.values(environment("etl-alert-receiver")), ...Object.values(environment("etl-metrics"))]) {
      if (value.startsWith("/run/secrets/")) expect(etlFiles.has(value), value).toBe(true);
    }
    const grafanaEnv = readFileSync(join(ROOT, "grafana/grafana.env"), "utf8");
    expect(grafanaEnv).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password\n");
    const datasource = readFileSync(join(ROOT, "grafana/provisioning/datasources/prometheus.yml"), "utf8");
    expect(datasource).toContain("$__file{/run/secrets/prometheus_readonly_password}");
    expect(CONTAINER_SECRETS.grafana.files).toEqual(["grafana_admin_password", "prometheus_readonly_password"]);
    const prometheusConfig = readFileSync(join(ROOT, "prometheus/prometheus.yml"), "utf8");
    for (const file of ["secrets/metrics_password", "secrets/prometheus_readonly_password"]) expect(prometheusConfig).toContain(`password_file: ${file}\n`);
    expect(readFileSync(join(ROOT, "prometheus/alertmanager.yml"), "utf8")).toContain("password_file: secrets/receiver_password\n");
    expect(STACK_CREDENTIALS.length).toBe(6);
  });
});

describe("the Dockerfile", () => {
  it("bundles in a build stage and runs each service as the non-root user of its base image", () => {
    expect(DOCKERFILE).toMatch(/^FROM \$\{BUILD_IMAGE\} AS build$/m);
    expect(DOCKERFILE).toMatch(/^FROM \$\{RUNTIME_IMAGE\} AS runtime$/m);
    expect(DOCKERFILE).toMatch(/RUN node commands\/build\/bundle\.mjs simulator exporter ingest-thread bcrypt-thread receiver secrets-fanout\n/);
    const runtime = DOCKERFILE.slice(DOCKERFILE.indexOf("AS runtime"));
    expect(runtime).toContain("\nUSER node\n");
    // Only the init service switches back to root, to hand out the secrets.
    expect(runtime.match(/^USER .*/gm)).toEqual(["USER node", "USER root"]);
    expect(runtime.split("USER root")[0]).toContain("FROM runtime AS etl-secrets-init");
    for (const target of BUILT) expect(DOCKERFILE).toContain(target === "etl-secrets-init" ? `FROM runtime AS ${target}\n` : `FROM service AS ${target}\n`);
  });

  it("never lets the secrets folder into the build context", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    expect(ignore[ignore.findIndex((l) => !l.startsWith("#"))]).toBe("*");
    expect(ignore.filter((l) => l.startsWith("!"))).toEqual([
      "!package.json",
      "!package-lock.json",
      "!tsconfig.json",
      "!commands/",
      "!lib/",
      "!handlers/",
      "!workers/",
    ]);
  });
});
