/**
 * The alerting path proven against the real servers: Debian's Prometheus
 * and Alertmanager on 127.0.0.1 with the stack's configuration, scraping
 * the real exporter and simulator, delivering to the real webhook receiver.
 *
 * Time is compressed: the simulator runs at SPEED, and the rules are the
 * production rules' source rendered for that speed (thresholds scaled,
 * `for:` and windows shortened, never below four scrape intervals). The real
 * durations are covered by `promtool test rules`.
 *
 * Required when CI=true; skipped with an install hint otherwise.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlertName, alertParamsForSpeed } from "../lib/alerts/rules.ts";
import { haveServerBinaries, INSTALL_HINT, type NativeStack, type StackPorts } from "../commands/stack/native.ts";
import { cleanup, freePort, startTestStack, tempDir, waitFor } from "./harness.ts";
import { type NotificationSinks, type SlackSink, type SmtpSink, startNotificationSinks } from "../tools/alerts/notification_sinks.ts";

const SPEED = 10;
const SCRAPE_SECONDS = 1;
const STALE_AFTER_SECONDS = 10;
// The batch job: every 5 profile minutes, so every 30 s of wall time, each run 6 s long.
// The catalog speaks wall time: due every 30 s, 3 s of grace (a tenth), hung after 15 s.
const BATCH_PIPELINE = "nightly";
const BATCH_CATALOG = `pipelines:\n  ${BATCH_PIPELINE}:\n    every: 30s\n    max_run_duration: 15s\n    min_records: 100\n`;
const available = haveServerBinaries();
const required = process.env.CI === "true";
if (!available && !required) console.warn(`alerting tests skipped: ${INSTALL_HINT}`);

const dirs: string[] = [];
let stack: NativeStack;
let secretsDir: string;
const password = (name: string) => readFileSync(join(secretsDir, name), "utf8").trim();
const basic = (user: string, pw: string) => ({ authorization: `Basic ${btoa(`${user}:${pw}`)}` });
const readonly = () => basic("readonly", password("prometheus_readonly_password"));
const delays: Record<string, { firedAfterS: number; resolvedAfterS?: number; emailAfterS?: number; slackAfterS?: number }> = {};
// E-mail and Slack ride along: the same alerts, through Prometheus, must reach them too.
let sinks: NotificationSinks;
let smtp: SmtpSink;
let slack: SlackSink;

interface Notification {
  receivedAt: string;
  payload: { status: string; alerts: { status: string; labels: Record<string, string> }[] };
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${stack.urls.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`, { headers: readonly() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

async function notifications(): Promise<Notification[]> {
  const res = await fetch(`${stack.urls.receiver}/notifications?limit=1000`, { headers: basic("alertmanager", password("receiver_password")) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { notifications: Notification[] }).notifications;
}

async function setScenario(scenario: string): Promise<void> {
  const res = await fetch(`${stack.urls.simulator}/control/scenario`, {
    method: "PUT",
    headers: { ...basic("control", password("control_password")), "content-type": "application/json" },
    body: JSON.stringify({ scenario }),
  });
  expect(res.status).toBe(200);
}

/** Waits for a notification about `alert` in `status`, received after `sinceMs`. */
async function waitNotification(alert: AlertName, status: "firing" | "resolved", sinceMs: number, timeoutMs: number) {
  return await waitFor(async () => {
    for (const n of await notifications()) {
      if (Date.parse(n.receivedAt) < sinceMs) continue;
      if (n.payload.alerts.some((a) => a.labels.alertname === alert && a.status === status)) return Date.parse(n.receivedAt);
    }
    return undefined;
  }, timeoutMs, `${alert} ${status} at the receiver`);
}

/** Switches to `scenario`, waits for `alert` to reach the receiver, switches back and waits for it to resolve. */
/** Provokes `alert` with `scenario` and resolves it; `checkChannels` also waits for its e-mail and Slack message. */
async function provokeAndResolve(scenario: string, alert: AlertName, timeoutMs: number, checkChannels = false): Promise<void> {
  const provokedAt = Date.now();
  await setScenario(scenario);
  const firedAt = await waitNotification(alert, "firing", provokedAt, timeoutMs);
  delays[scenario] = { firedAfterS: (firedAt - provokedAt) / 1000 };
  if (checkChannels) {
    const mail = await waitFor(() => smtp.mails.find((m) => m.receivedAt >= provokedAt && m.subject.startsWith(`[FIRING] ${alert} pipeline `)), 30_000, `${alert} e-mail`);
    const posted = await waitFor(
      () => slack.messages.find((m) => m.receivedAt >= provokedAt && m.body.attachments[0]!.title.startsWith(`[FIRING] ${alert} pipeline `)),
      30_000,
      `${alert} Slack message`,
    );
    expect(mail.text).toContain(`${alert} (pipeline `);
    expect(posted.body.attachments[0]!.color).toBe("danger");
    delays[scenario]!.emailAfterS = (mail.receivedAt - provokedAt) / 1000;
    delays[scenario]!.slackAfterS = (posted.receivedAt - provokedAt) / 1000;
  }
  const calmedAt = Date.now();
  await setScenario("normal");
  const resolvedAt = await waitNotification(alert, "resolved", calmedAt, timeoutMs);
  delays[scenario]!.resolvedAfterS = (resolvedAt - calmedAt) / 1000;
  await waitFor(async () => ((await firingAlerts()).length === 0 ? true : undefined), 240_000, "all alerts resolved");
}

async function firingAlerts(): Promise<string[]> {
  return (await query('ALERTS{alertstate="firing"}')).map((r) => r.metric.alertname!).sort();
}

describe.skipIf(!available && !required)("alerting against real Prometheus and Alertmanager", () => {
  beforeAll(async () => {
    const wrongPasswordDir = tempDir("etl-wrong-");
    dirs.push(wrongPasswordDir);
    const wrongPasswordFile = join(wrongPasswordDir, "wrong_password");
    writeFileSync(wrongPasswordFile, "not-the-password");
    sinks = await startNotificationSinks(wrongPasswordDir, { smtp: await freePort(), slack: await freePort() });
    ({ smtp, slack } = sinks);
    const catalogFile = join(wrongPasswordDir, "pipelines.yml");
    writeFileSync(catalogFile, BATCH_CATALOG);
    let runDir: string;
    ({ stack, secretsDir, runDir } = await startTestStack("etl-stack-", {
      speed: SPEED,
      seed: 11,
      alertParams: alertParamsForSpeed(SPEED, { scrapeIntervalSeconds: SCRAPE_SECONDS }),
      scrapeInterval: `${SCRAPE_SECONDS}s`,
      evaluationInterval: `${SCRAPE_SECONDS}s`,
      alertmanagerTiming: {
        criticalGroupWait: "1s", criticalGroupInterval: "2s", criticalRepeatInterval: "1h",
        warningGroupWait: "1s", warningGroupInterval: "2s", warningRepeatInterval: "1h",
      },
      channels: sinks.channels,
      exporterEnv: { ETL_STALE_AFTER_SECONDS: String(STALE_AFTER_SECONDS), ETL_POLL_MS: "100", ETL_PIPELINES_FILE: catalogFile },
      simulatorEnv: { ETL_BATCH_PIPELINES: `${BATCH_PIPELINE}:5m` },
      // The same simulator, scraped with a wrong password: must be down.
      extraScrapeJobs: (stackPorts: StackPorts) => [{
        job_name: "wrong-password",
        basic_auth: { username: "metrics", password_file: wrongPasswordFile },
        static_configs: [{ targets: [`127.0.0.1:${stackPorts.simulator}`] }],
      }],
    }));
    dirs.push(runDir);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await sinks?.close();
    cleanup(dirs);
    if (Object.keys(delays).length > 0) console.log(`alert delays at speed ${SPEED}: ${JSON.stringify(delays)}`);
  }, 60_000);

  it("answers 401 without credentials and to a wrong password", async () => {
    expect((await fetch(`${stack.urls.prometheus}/api/v1/query?query=up`)).status).toBe(401);
    expect((await fetch(`${stack.urls.prometheus}/api/v1/query?query=up`, { headers: basic("readonly", "wrong") })).status).toBe(401);
    expect((await fetch(`${stack.urls.prometheus}/api/v1/query?query=up`, { headers: basic("admin", password("prometheus_admin_password")) })).status).toBe(200);
  });

  it("scrapes both targets, the simulator only with the right credential", async () => {
    const up = await waitFor(async () => {
      const result = await query("up");
      const byJob = Object.fromEntries(result.map((r) => [r.metric.job, r.value[1]]));
      return byJob["etl-metrics"] === "1" && byJob["etl-simulator"] === "1" && byJob["wrong-password"] === "0" ? byJob : undefined;
    }, 30_000, "targets scraped");
    expect(up).toMatchObject({ "etl-metrics": "1", "etl-simulator": "1", "wrong-password": "0" });
    const targets = (await (await fetch(`${stack.urls.prometheus}/api/v1/targets`, { headers: readonly() })).json()) as {
      data: { activeTargets: { labels: { job: string }; lastError: string }[] };
    };
    const wrong = targets.data.activeTargets.find((t) => t.labels.job === "wrong-password")!;
    expect(wrong.lastError).toContain("401");
  }, 60_000);

  it("does not let readonly change anything: no reload, no shutdown, no deleting series", async () => {
    const auth = readonly();
    const before = await query("count(up)");
    for (const [method, path] of [
      ["POST", "/-/reload"],
      ["PUT", "/-/reload"],
      ["POST", "/-/quit"],
      ["POST", "/api/v1/admin/tsdb/delete_series?match[]=up"],
      ["POST", "/api/v1/admin/tsdb/clean_tombstones"],
      ["POST", "/api/v1/admin/tsdb/snapshot"],
    ] as const) {
      const res = await fetch(`${stack.urls.prometheus}${path}`, { method, headers: auth });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
    }
    expect((await fetch(`${stack.urls.prometheus}/-/ready`, { headers: auth })).status).toBe(200);
    expect(await query("count(up)")).toHaveLength(before.length);
    expect((await query('count(up{job="etl-metrics"})'))[0]!.value[1]).toBe("1");
  });

  it("fires nothing in normal running", async () => {
    // Long enough for every compressed window to fill with normal data.
    await new Promise((r) => setTimeout(r, 45_000));
    expect(await firingAlerts()).toEqual([]);
    expect((await notifications()).filter((n) => n.payload.status === "firing")).toEqual([]);
  }, 90_000);

  it.each([
    ["stall", "EtlHealthCheckFailed"],
    ["error-burst", "EtlHighFailureRate"],
    ["slow", "EtlSlowProcessing"],
    ["low-throughput", "EtlLowThroughput"],
  ] as const)("%s makes %s fire and reach the receiver; normal resolves it", (scenario, alert) => provokeAndResolve(scenario, alert, 240_000, true), 600_000);

  it("runs the batch job beside the always-on pipeline, between runs healthy", async () => {
    const runs = await waitFor(async () => {
      const result = await query(`etl_runs_total{job="etl-metrics", pipeline="${BATCH_PIPELINE}", status="success"}`);
      return Number(result[0]?.value[1] ?? 0) >= 2 ? result : undefined;
    }, 90_000, "two batch runs");
    expect(runs).toHaveLength(1);
    expect(await query(`etl_pipeline_info{job="etl-metrics", pipeline="${BATCH_PIPELINE}", kind="batch", schedule="every 30s"}`)).toHaveLength(1);
  }, 120_000);

  it.each([
    ["late", "EtlPipelineLate"],
    ["hung", "EtlRunTooLong"],
    ["empty", "EtlEmptyRun"],
    ["volume-drop", "EtlVolumeDrop"],
  ] as const)("batch %s makes %s fire and reach the receiver; normal resolves it", (scenario, alert) => provokeAndResolve(scenario, alert, 180_000), 600_000);

  it("fires EtlMetricsEndpointDown when the simulator dies, and resolves it when it is back", async () => {
    const provokedAt = Date.now();
    await setScenario("crash");
    const firedAt = await waitNotification("EtlMetricsEndpointDown", "firing", provokedAt, 120_000);
    delays.crash = { firedAfterS: (firedAt - provokedAt) / 1000 };
    const restartedAt = Date.now();
    await stack.restartWorker("simulator");
    const resolvedAt = await waitNotification("EtlMetricsEndpointDown", "resolved", restartedAt, 120_000);
    delays.crash.resolvedAfterS = (resolvedAt - restartedAt) / 1000;
  }, 300_000);
});
