/**
 * The native stack over HTTPS end to end: real Prometheus and Alertmanager
 * with TLS web configs, scraping the workers over HTTPS with the local CA,
 * Prometheus → Alertmanager → receiver over HTTPS; plain HTTP and another
 * CA refused; a scenario's alert delivered. Speed 10, as the live test.
 *
 * Required when CI=true; skipped with an install hint otherwise.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCertificates } from "../commands/secrets/ca.ts";
import { httpGet } from "../commands/stack/https_get.ts";
import { haveServerBinaries, INSTALL_HINT, type NativeStack } from "../commands/stack/native.ts";
import { alertParamsForSpeed } from "../lib/alerts/rules.ts";
import { basicAuthorization } from "../lib/auth/basic_authorization.ts";
import { cleanup, startTestStack, tempDir, waitFor } from "./harness.ts";

const SPEED = 10;
const available = haveServerBinaries();
const required = process.env.CI === "true";
if (!available && !required) console.warn(`TLS stack tests skipped: ${INSTALL_HINT}`);

const dirs: string[] = [];
let stack: NativeStack;
let secretsDir: string;
let ca: string;
let otherCa: string;
const password = (name: string) => readFileSync(join(secretsDir, name), "utf8").trim();
const get = (url: string, user?: string, pw?: string, trust = ca) =>
  httpGet(url, { ca: trust, headers: user ? { authorization: basicAuthorization(user, pw!) } : {} });
const readonly = (path: string) => get(`${stack.urls.prometheus}${path}`, "readonly", password("prometheus_readonly_password"));
const errorCode = (p: Promise<unknown>) => p.then(() => "answered", (e: { code?: string; message: string }) => e.code ?? e.message);

describe.skipIf(!available && !required)("the native stack over HTTPS", () => {
  beforeAll(async () => {
    let runDir: string;
    ({ stack, secretsDir, runDir } = await startTestStack("etl-tls-stack-", {
      tls: true,
      speed: SPEED,
      seed: 5,
      alertParams: alertParamsForSpeed(SPEED, { scrapeIntervalSeconds: 1 }),
      scrapeInterval: "1s",
      evaluationInterval: "1s",
      alertmanagerTiming: { criticalGroupWait: "1s", criticalGroupInterval: "2s", warningGroupWait: "1s", warningGroupInterval: "2s" },
      exporterEnv: { ETL_STALE_AFTER_SECONDS: "10", ETL_POLL_MS: "100" },
    }));
    dirs.push(runDir);
    ca = readFileSync(join(secretsDir, "ca.crt"), "utf8");
    const other = tempDir("etl-other-ca-");
    dirs.push(other);
    await ensureCertificates(other);
    otherCa = readFileSync(join(other, "ca.crt"), "utf8");
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    cleanup(dirs);
  }, 60_000);

  it("scrapes every target over HTTPS with the CA", async () => {
    const up = await waitFor(async () => {
      const res = await readonly("/api/v1/query?query=up");
      const result = (JSON.parse(res.body) as { data: { result: { metric: { job: string }; value: [number, string] }[] } }).data.result;
      const byJob = Object.fromEntries(result.map((r) => [r.metric.job, r.value[1]]));
      return Object.keys(byJob).length === 4 && Object.values(byJob).every((v) => v === "1") ? byJob : undefined;
    }, 30_000, "four targets up");
    expect(up).toEqual({ "etl-metrics": "1", "etl-simulator": "1", prometheus: "1", alertmanager: "1" });
    const targets = JSON.parse((await readonly("/api/v1/targets")).body) as { data: { activeTargets: { scrapeUrl: string }[] } };
    expect(targets.data.activeTargets.map((t) => t.scrapeUrl.slice(0, 8))).toEqual(Array(4).fill("https://"));
    const ams = JSON.parse((await readonly("/api/v1/alertmanagers")).body) as { data: { activeAlertmanagers: { url: string }[] } };
    expect(ams.data.activeAlertmanagers[0]!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts$/);
    // The exporter's certificate expiry reaches Prometheus, and the rule that reads it is loaded.
    const expiry = JSON.parse((await readonly("/api/v1/query?query=etl_tls_certificate_expiry_timestamp_seconds")).body) as { data: { result: { value: [number, string] }[] } };
    const days = (Number(expiry.data.result[0]!.value[1]) * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    expect((await readonly("/api/v1/rules?type=alert")).body).toContain('"name":"EtlCertificateExpiringSoon"');
  }, 60_000);

  it("refuses plain HTTP and a client trusting another CA, on every server", async () => {
    for (const [name, url] of Object.entries(stack.urls)) {
      expect(url, name).toMatch(/^https:/);
      expect(await errorCode(get(`${url}/-/healthy`, undefined, undefined, otherCa)), name).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
      const plain = await httpGet(`${url.replace("https:", "http:")}/-/healthy`).then((r) => r.status, () => "refused");
      // Go's servers answer a plain request on a TLS port with 400; ours close the connection.
      expect([400, "refused"], name).toContain(plain);
    }
    expect((await get(`${stack.urls.alertmanager}/-/ready`)).status).toBe(200);
  });

  it("delivers a scenario's alert to the receiver over HTTPS", async () => {
    const auth = (user: string, pw: string) => ({ authorization: basicAuthorization(user, pw) });
    const provokedAt = Date.now();
    const { request } = await import("node:https");
    await new Promise<void>((done, fail) => {
      const req = request(`${stack.urls.simulator}/control/scenario`, {
        method: "PUT",
        ca,
        headers: { ...auth("control", password("control_password")), "content-type": "application/json" },
      }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? done() : fail(new Error(`PUT scenario: ${res.statusCode}`))));
      });
      req.on("error", fail);
      req.end(JSON.stringify({ scenario: "stall" }));
    });
    const firedAt = await waitFor(async () => {
      const res = await get(`${stack.urls.receiver}/notifications?limit=100`, "alertmanager", password("receiver_password"));
      const list = (JSON.parse(res.body) as { notifications: { receivedAt: string; payload: { alerts: { status: string; labels: Record<string, string> }[] } }[] }).notifications;
      const hit = list.find((n) => Date.parse(n.receivedAt) >= provokedAt && n.payload.alerts.some((a) => a.labels.alertname === "EtlHealthCheckFailed" && a.status === "firing"));
      return hit ? Date.parse(hit.receivedAt) : undefined;
    }, 120_000, "EtlHealthCheckFailed at the receiver over HTTPS");
    console.log(`TLS stack: EtlHealthCheckFailed reached the receiver ${(firedAt - provokedAt) / 1000} s after stall (speed ${SPEED})`);
  }, 150_000);
});
