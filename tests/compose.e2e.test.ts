// The Compose stack brought up for real, as the README's Docker quick start
// does (`npm run stack -- up`), on a Docker engine this test starts and
// removes. Two things differ from a user's machine, because no image
// registry is reachable here:
//   - the base and service images are stand-ins built on a local Debian
//     image (tests/docker/engine.ts): Node from this machine at the official
//     image's paths, and Debian's Prometheus and Alertmanager binaries laid
//     out like prom/prometheus and prom/alertmanager;
//   - Grafana is left out (`up` names the other services): it cannot run here.
// Everything is checked from outside, through the ports published on 127.0.0.1.
//
// Runs after the rest of the suite (vitest.compose.config.ts), so that its
// image builds do not slow the timed tests; about 10 minutes.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBaseImage, buildStandinImages, type DockerEngine, startDockerEngine } from "./docker/engine.ts";
import { ROOT, tempDir, waitFor } from "./harness.ts";

const required = process.env.CI === "true";
const available = ["dockerd", "docker-compose", "debootstrap"].every((tool) => spawnSync("which", [tool]).status === 0) &&
  process.getuid?.() === 0;
if (!available && !required) {
  console.warn("Compose e2e skipped: needs root and apt-get install --no-install-recommends docker.io docker-compose debootstrap");
}

const SERVICES_BUT_GRAFANA = ["etl-simulator", "etl-metrics", "etl-alert-receiver", "alertmanager", "prometheus"];
const OUR_IMAGES = ["etl-simulator", "etl-metrics", "etl-alert-receiver", "etl-secrets-init"].map((n) => `etl-monitoring/${n}:0.1.0`);
const PROMETHEUS = "http://127.0.0.1:9090";
const ALERTMANAGER = "http://127.0.0.1:9093";
const SIMULATOR = "http://127.0.0.1:8000";
const EXPORTER = "http://127.0.0.1:8083";
const RECEIVER = "http://127.0.0.1:9095";

let engine: DockerEngine;
let env: Record<string, string>;
let secretsDir: string;
const figures: Record<string, unknown> = {};

/** `npm run stack -- ARGS`, i.e. the CLI bundle, with the test's engine and images. */
function stack(args: string[], timeoutMs = 600_000): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, "dist/stack.mjs"), ...args], { cwd: ROOT, env, stdio: "pipe" });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

function docker(args: string[]): string {
  const result = spawnSync("docker", args, { env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

const basic = (user: string, file: string) =>
  "Basic " + Buffer.from(`${user}:${readFileSync(join(secretsDir, file), "utf8").trim()}`).toString("base64");
const readonly = () => ({ authorization: basic("readonly", "prometheus_readonly_password") });

async function prometheus<T>(path: string): Promise<T> {
  const response = await fetch(`${PROMETHEUS}${path}`, { headers: readonly() });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return ((await response.json()) as { data: T }).data;
}

async function targetHealth(): Promise<Record<string, string>> {
  const data = await prometheus<{ activeTargets: { labels: { job: string }; health: string }[] }>("/api/v1/targets");
  return Object.fromEntries(data.activeTargets.map((t) => [t.labels.job, t.health]).sort());
}

async function instantValue(query: string, time?: number): Promise<number | undefined> {
  const at = time === undefined ? "" : `&time=${time}`;
  const data = await prometheus<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(query)}${at}`);
  return data.result.length === 0 ? undefined : Number(data.result[0]!.value[1]);
}

function containerOf(service: string): { id: string; startedAt: string; health: string } {
  const id = docker(["ps", "-aq", "--filter", "label=com.docker.compose.project=etl-monitoring", "--filter", `label=com.docker.compose.service=${service}`]);
  const [startedAt, health] = docker(["inspect", "-f", "{{.State.StartedAt}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", id]).split(" ");
  return { id, startedAt: startedAt!, health: health ?? "" };
}

describe.runIf(available || required)("the Compose stack, for real", () => {
  beforeAll(async () => {
    const started = Date.now();
    engine = await startDockerEngine();
    await buildBaseImage(engine);
    const standins = await buildStandinImages(engine);
    figures.preparationSeconds = Math.round((Date.now() - started) / 1000);
    secretsDir = join(tempDir("compose-e2e-"), "secrets");
    env = { ...process.env, ...engine.env, ...standins, ETL_COMPOSE: "docker-compose", ETL_SECRETS_DIR: secretsDir } as Record<string, string>;
  }, 900_000);

  afterAll(async () => {
    if (!engine) return;
    await stack(["down", "--delete-data"]).catch(() => undefined);
    for (const image of OUR_IMAGES) spawnSync("docker", ["rmi", "-f", image], { env });
    await engine.stop();
    console.log(`compose stack figures: ${JSON.stringify(figures)}`);
  }, 300_000);

  it("comes up healthy with `stack up`, secrets made on the way, and says where everything is", async () => {
    const started = Date.now();
    const { code, output } = await stack(["up", ...SERVICES_BUT_GRAFANA]);
    figures.upToHealthySeconds = Math.round((Date.now() - started) / 1000);
    expect(output).not.toMatch(/Error|at .*\.mjs:\d+/);
    expect(code).toBe(0);
    expect(existsSync(join(secretsDir, "prometheus-web.yml"))).toBe(true);
    for (const url of [PROMETHEUS, ALERTMANAGER, SIMULATOR, EXPORTER, RECEIVER]) expect(output).toContain(url);
    expect(output).not.toContain(readFileSync(join(secretsDir, "prometheus_readonly_password"), "utf8").trim());
    for (const service of SERVICES_BUT_GRAFANA) expect(containerOf(service).health, service).toBe("healthy");
    expect(docker(["inspect", "-f", "{{.State.ExitCode}}", containerOf("etl-secrets-init").id])).toBe("0");
  }, 900_000);

  it("publishes on 127.0.0.1 only", () => {
    const bindings = docker(["inspect", "-f", "{{json .HostConfig.PortBindings}}", containerOf("prometheus").id]);
    expect(JSON.parse(bindings)).toEqual({ "9090/tcp": [{ HostIp: "127.0.0.1", HostPort: "9090" }] });
  });

  it("has every Prometheus target up, the simulator scraped with its password", async () => {
    const health = await waitFor(async () => {
      const h = await targetHealth();
      return Object.values(h).length === 4 && Object.values(h).every((v) => v === "up") ? h : undefined;
    }, 90_000, "all targets up");
    expect(health).toEqual({ alertmanager: "up", "etl-metrics": "up", "etl-simulator": "up", prometheus: "up" });
  }, 120_000);

  it("refuses unauthenticated and wrong-password requests", async () => {
    expect((await fetch(`${PROMETHEUS}/api/v1/targets`)).status).toBe(401);
    expect((await fetch(`${PROMETHEUS}/-/healthy`)).status).toBe(401);
    expect((await fetch(`${SIMULATOR}/metrics`)).status).toBe(401);
    expect((await fetch(`${SIMULATOR}/metrics`, { headers: { authorization: "Basic " + btoa("metrics:wrong") } })).status).toBe(401);
    expect((await fetch(`${SIMULATOR}/metrics`, { headers: { authorization: basic("metrics", "metrics_password") } })).status).toBe(200);
    expect((await fetch(`${RECEIVER}/notifications`)).status).toBe(401);
    // The exporter is open, like most exporters; it publishes counts, not secrets.
    expect((await fetch(`${EXPORTER}/metrics`)).status).toBe(200);
  });

  it("reports each service, target and alert with `stack status`", async () => {
    const { code, output } = await stack(["status"]);
    expect(code).toBe(0);
    for (const service of SERVICES_BUT_GRAFANA) expect(output).toMatch(new RegExp(`${service}\\s.*healthy`));
    expect(output).toMatch(/etl-simulator\s.*up/);
  }, 60_000);

  it("sends a scenario's alert through Alertmanager to the receiver", async () => {
    const switched = await stack(["scenario", "stall"]);
    expect(switched.output).toContain("stall");
    expect(switched.code).toBe(0);
    const started = Date.now();
    const alert = await waitFor(async () => {
      const response = await fetch(`${ALERTMANAGER}/api/v2/alerts?filter=alertname%3D%22EtlHealthCheckFailed%22`);
      const alerts = (await response.json()) as { labels: Record<string, string>; status: { state: string } }[];
      return alerts.find((a) => a.status.state === "active");
    }, 420_000, "EtlHealthCheckFailed in Alertmanager");
    figures.stallToAlertmanagerSeconds = Math.round((Date.now() - started) / 1000);
    expect(alert.labels).toMatchObject({ alertname: "EtlHealthCheckFailed", job: "etl-metrics", severity: "critical" });
    const notified = await waitFor(async () => {
      const response = await fetch(`${RECEIVER}/notifications?limit=50`, { headers: { authorization: basic("alertmanager", "receiver_password") } });
      const body = (await response.json()) as { notifications: { payload: { alerts: { labels: { alertname: string } }[] } }[] };
      return body.notifications.find((n) => n.payload.alerts.some((a) => a.labels.alertname === "EtlHealthCheckFailed"));
    }, 60_000, "the receiver's notification");
    figures.stallToReceiverSeconds = Math.round((Date.now() - started) / 1000);
    expect(notified.payload.alerts[0]!.labels.alertname).toBe("EtlHealthCheckFailed");
    expect((await stack(["scenario", "normal"])).code).toBe(0);
  }, 600_000);

  it("restarts the simulator and the exporter only, with `stack restart-etl`", async () => {
    const before = Object.fromEntries(SERVICES_BUT_GRAFANA.map((s) => [s, containerOf(s).startedAt]));
    const { code } = await stack(["restart-etl"]);
    expect(code).toBe(0);
    const after = Object.fromEntries(SERVICES_BUT_GRAFANA.map((s) => [s, containerOf(s)]));
    for (const service of SERVICES_BUT_GRAFANA) {
      const restarted = service === "etl-simulator" || service === "etl-metrics";
      expect(after[service]!.startedAt !== before[service], service).toBe(restarted);
      expect(after[service]!.health, service).toBe("healthy");
    }
  }, 300_000);

  it("keeps Prometheus's samples and the exporter's counts across `down` and `up`", async () => {
    const memory = docker(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}"]);
    figures.memory = Object.fromEntries(memory.split("\n").map((line) => {
      const [name, usage] = line.split(" ");
      return [name!.replace(/^etl-monitoring[_-]/, "").replace(/[_-]1$/, ""), usage];
    }));
    // cgroup usage (above) leaves out the Node binary's shared pages, which RSS counts.
    figures.nodeRss = Object.fromEntries(["etl-simulator", "etl-metrics", "etl-alert-receiver"].map((service) => [
      service,
      docker(["exec", containerOf(service).id, "sh", "-c", "grep VmRSS /proc/1/status"]).replace(/^VmRSS:\s+/, ""),
    ]));
    // What our images add to their base (the stand-in here, node:*-slim for users): the bundles.
    const baseSize = Number(docker(["image", "inspect", "-f", "{{.Size}}", env.ETL_NODE_IMAGE!]));
    figures.imageBytesAboveBase = Object.fromEntries(
      OUR_IMAGES.map((image) => [image, Number(docker(["image", "inspect", "-f", "{{.Size}}", image])) - baseSize]),
    );
    const marked = Math.floor(Date.now() / 1000);
    const upBefore = await instantValue('up{job="etl-metrics"}', marked);
    expect(upBefore).toBe(1);
    const recordsBefore = (await instantValue("sum(etl_records_total)"))!;
    expect((await stack(["down"])).code).toBe(0);
    expect(docker(["ps", "-q", "--filter", "label=com.docker.compose.project=etl-monitoring"])).toBe("");
    expect((await stack(["up", ...SERVICES_BUT_GRAFANA])).code).toBe(0);
    expect(await instantValue('up{job="etl-metrics"}', marked)).toBe(1);
    const recordsAfter = await waitFor(() => instantValue("sum(etl_records_total)"), 60_000, "records after up");
    expect(recordsAfter).toBeGreaterThanOrEqual(recordsBefore);
  }, 600_000);

  it("backs up and restores Prometheus's data with `stack backup` and `stack restore`", async () => {
    const marked = Math.floor(Date.now() / 1000);
    expect(await instantValue('up{job="prometheus"}', marked)).toBe(1);
    const backupDir = join(tempDir("compose-backup-"), "backup");
    const backup = await stack(["backup", backupDir]);
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(backupDir, "manifest.json"), "utf8")) as { volumes: { name: string }[] };
    expect(manifest.volumes.map((v) => v.name)).toContain("etl-monitoring-prometheus-data");
    expect((await stack(["down", "--delete-data"])).code).toBe(0);
    expect((await stack(["up", ...SERVICES_BUT_GRAFANA])).code).toBe(0);
    expect(await instantValue('up{job="prometheus"}', marked)).toBeUndefined();
    const restore = await stack(["restore", backupDir]);
    expect(restore.code).toBe(0);
    await waitFor(async () => (await fetch(`${PROMETHEUS}/-/ready`, { headers: readonly() }).catch(() => undefined))?.ok || undefined, 90_000, "Prometheus ready after restore");
    expect(await instantValue('up{job="prometheus"}', marked)).toBe(1);
  }, 900_000);
});
