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
// One stack, both modes: it comes up plain (`stack up`), is checked, then is
// switched to HTTPS with `stack up --tls` (the TLS override on top: the same
// images and volumes, the containers recreated), and everything after that —
// targets, refusals, status, the scenario's alert, restart, down/up, backup and
// restore — runs over HTTPS with the local CA. Switching costs one `up`
// (about half a minute), not a second stack.
//
// Runs after the rest of the suite (vitest.compose.config.ts), so that its
// image builds do not slow the timed tests; about 7 minutes.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCertificates } from "../commands/secrets/ca.ts";
import { httpGet } from "../commands/stack/https_get.ts";
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
// Plain HTTP until `up --tls`, HTTPS after.
let scheme = "http";
const PORTS = { prometheus: 9090, alertmanager: 9093, simulator: 8000, exporter: 8083, receiver: 9095 } as const;
const urlOf = (service: keyof typeof PORTS) => `${scheme}://127.0.0.1:${PORTS[service]}`;
/** The local CA's PEM once in TLS mode. */
let ca: string | undefined;

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

/** GET over HTTP, or over HTTPS trusting the local CA only. */
async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return await httpGet(url, { ca, headers });
}

async function prometheus<T>(path: string): Promise<T> {
  const response = await get(`${urlOf("prometheus")}${path}`, readonly());
  if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
  return (JSON.parse(response.body) as { data: T }).data;
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
    for (const service of Object.keys(PORTS) as (keyof typeof PORTS)[]) expect(output).toContain(urlOf(service));
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
    const status = async (url: string, headers?: Record<string, string>) => (await get(url, headers)).status;
    expect(await status(`${urlOf("prometheus")}/api/v1/targets`)).toBe(401);
    expect(await status(`${urlOf("prometheus")}/-/healthy`)).toBe(401);
    expect(await status(`${urlOf("simulator")}/metrics`)).toBe(401);
    expect(await status(`${urlOf("simulator")}/metrics`, { authorization: "Basic " + btoa("metrics:wrong") })).toBe(401);
    expect(await status(`${urlOf("simulator")}/metrics`, { authorization: basic("metrics", "metrics_password") })).toBe(200);
    expect(await status(`${urlOf("receiver")}/notifications`)).toBe(401);
    // The exporter is open, like most exporters; it publishes counts, not secrets.
    expect(await status(`${urlOf("exporter")}/metrics`)).toBe(200);
  });

  it("switches to HTTPS only with `stack up --tls`: the same stack, recreated, healthy, health checks over HTTPS", async () => {
    const started = Date.now();
    const { code, output } = await stack(["up", "--tls", ...SERVICES_BUT_GRAFANA]);
    figures.upTlsSeconds = Math.round((Date.now() - started) / 1000);
    expect(output).not.toMatch(/Error|at .*\.mjs:\d+/);
    expect(code).toBe(0);
    expect(output).toContain(`HTTPS only: trust ${join(secretsDir, "ca.crt")}`);
    scheme = "https";
    ca = readFileSync(join(secretsDir, "ca.crt"), "utf8");
    for (const service of Object.keys(PORTS) as (keyof typeof PORTS)[]) expect(output).toContain(urlOf(service));
    // Every later command of this stack is told it runs over HTTPS, by the variable.
    env.ETL_TLS = "1";
    for (const service of SERVICES_BUT_GRAFANA) expect(containerOf(service).health, service).toBe("healthy");
    // The certificates and the TLS web configs reached each service's volume, and no CA key.
    expect(docker(["exec", containerOf("alertmanager").id, "ls", "/etc/alertmanager/secrets"]).split("\n").sort()).toEqual([
      "alertmanager-web.yml", "alertmanager.crt", "alertmanager.key", "ca.crt", "receiver_password",
    ]);
  }, 600_000);

  it("has every Prometheus target up over HTTPS with the CA, and Alertmanager reached over HTTPS", async () => {
    const health = await waitFor(async () => {
      const data = await prometheus<{ activeTargets: { labels: { job: string }; health: string; scrapeUrl: string }[] }>("/api/v1/targets");
      const https = data.activeTargets.filter((t) => t.scrapeUrl.startsWith("https://"));
      return https.length === 4 && https.every((t) => t.health === "up") ? Object.fromEntries(https.map((t) => [t.labels.job, t.health]).sort()) : undefined;
    }, 90_000, "all targets up over HTTPS");
    expect(health).toEqual({ alertmanager: "up", "etl-metrics": "up", "etl-simulator": "up", prometheus: "up" });
    const ams = await prometheus<{ activeAlertmanagers: { url: string }[] }>("/api/v1/alertmanagers");
    expect(ams.activeAlertmanagers.map((a) => a.url)).toEqual(["https://alertmanager:9093/api/v2/alerts"]);
    // The exporter exports the expiry of the certificate it serves: a year ahead.
    const expiry = await waitFor(() => instantValue("etl_tls_certificate_expiry_timestamp_seconds"), 30_000, "the certificate's expiry");
    const days = (expiry * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  }, 150_000);

  it("refuses plain HTTP and a client trusting another CA, on every published port", async () => {
    const other = tempDir("compose-other-ca-");
    await ensureCertificates(other);
    const otherCa = readFileSync(join(other, "ca.crt"), "utf8");
    for (const service of Object.keys(PORTS) as (keyof typeof PORTS)[]) {
      const url = `${urlOf(service)}/-/healthy`;
      const wrongCa = await httpGet(url, { ca: otherCa }).then(() => "answered", (e: { code?: string }) => e.code);
      expect(wrongCa, service).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
      const plain = await httpGet(url.replace("https:", "http:")).then((r) => r.status, () => "refused");
      // Go's servers answer a plain request on a TLS port with 400; ours close the connection.
      expect(service === "prometheus" || service === "alertmanager" ? [400] : ["refused"], service).toContain(plain);
    }
    expect((await get(`${urlOf("alertmanager")}/-/ready`)).status).toBe(200);
  }, 60_000);

  it("reports each service, target and alert with `stack status`", async () => {
    const { code, output } = await stack(["status"]);
    // `up --tls` recreated the simulator, and if that was in the middle of a
    // batch_orders run (one every 5 minutes, about a minute long), the new
    // process's first start closes it as failed (restarted): EtlRunFailed then
    // fires, rightly, and that alert alone makes the exit code 1.
    const firingSection = output.split(/^Alerts firing/m)[1]?.split(/^(Alerts pending|All healthy|Not healthy)/m)[0] ?? "";
    const firing = firingSection.split("\n").filter((line) => line.startsWith("  "));
    const restartedRun = firing.length === 1 && /^  EtlRunFailed .*pipeline=batch_orders .*status=failed/.test(firing[0]!);
    if (restartedRun) expect(output, output).toContain("Not healthy: 1 alert firing.");
    else expect(output, output).toContain("Alerts firing: none");
    expect(code, output).toBe(restartedRun ? 1 : 0);
    for (const service of SERVICES_BUT_GRAFANA) expect(output).toMatch(new RegExp(`${service}\\s.*healthy`));
    expect(output).toContain("Prometheus targets (https://127.0.0.1:9090):");
    expect(output).toMatch(/etl-simulator\s+etl-simulator:8000\s+up/);
  }, 60_000);

  it("sends a scenario's alert through Alertmanager to the receiver, over HTTPS all the way", async () => {
    const switched = await stack(["scenario", "stall"]);
    expect(switched.output).toContain("stall");
    expect(switched.code).toBe(0);
    const started = Date.now();
    const alert = await waitFor(async () => {
      const response = await get(`${urlOf("alertmanager")}/api/v2/alerts?filter=alertname%3D%22EtlHealthCheckFailed%22`);
      const alerts = JSON.parse(response.body) as { labels: Record<string, string>; status: { state: string } }[];
      return alerts.find((a) => a.status.state === "active");
    }, 420_000, "EtlHealthCheckFailed in Alertmanager");
    figures.stallToAlertmanagerSeconds = Math.round((Date.now() - started) / 1000);
    expect(alert.labels).toMatchObject({ alertname: "EtlHealthCheckFailed", job: "etl-metrics", severity: "critical" });
    const notified = await waitFor(async () => {
      // The receiver serves HTTPS only: Alertmanager reached it with the CA.
      const response = await get(`${urlOf("receiver")}/notifications?limit=50`, { authorization: basic("alertmanager", "receiver_password") });
      const body = JSON.parse(response.body) as { notifications: { payload: { alerts: { labels: { alertname: string } }[] } }[] };
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
    // The exporter's job only: the simulator serves its own in-memory counts, which restart at zero.
    const exporterRecords = 'sum(etl_records_total{job="etl-metrics"})';
    const recordsBefore = (await instantValue(exporterRecords))!;
    expect((await stack(["down"])).code).toBe(0);
    expect(docker(["ps", "-q", "--filter", "label=com.docker.compose.project=etl-monitoring"])).toBe("");
    expect((await stack(["up", ...SERVICES_BUT_GRAFANA])).code).toBe(0);
    const upAt = Math.floor(Date.now() / 1000);
    expect(await instantValue('up{job="etl-metrics"}', marked)).toBe(1);
    // From a scrape of the new exporter: the last samples from before `down` may still be in the lookback.
    const scrapedSinceUp = `max(timestamp(up{job="etl-metrics"})) > ${upAt}`;
    const recordsAfter = await waitFor(() => instantValue(`${exporterRecords} and on() ${scrapedSinceUp}`), 60_000, "records after up");
    // The exporter's own account of where it resumed from says why, when it did not.
    const exporterLog = () => {
      const logs = spawnSync("docker", ["logs", containerOf("etl-metrics").id], { env, encoding: "utf8" });
      return `the exporter's log:\n${logs.stdout}${logs.stderr}`;
    };
    expect(recordsAfter, recordsAfter < recordsBefore ? exporterLog() : "").toBeGreaterThanOrEqual(recordsBefore);
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
    await waitFor(async () => (await get(`${urlOf("prometheus")}/-/ready`, readonly()).catch(() => undefined))?.status === 200 || undefined, 90_000, "Prometheus ready after restore");
    expect(await instantValue('up{job="prometheus"}', marked)).toBe(1);
  }, 900_000);
});
