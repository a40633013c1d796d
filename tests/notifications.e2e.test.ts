/**
 * E-mail and Slack proven end to end: a real Alertmanager (Debian's 0.25)
 * with the configuration the settings render, alerts posted to its API,
 * and the notifications read where they land: a real SMTP server on
 * loopback (STARTTLS and AUTH required, the password from a file) and a
 * Slack-compatible incoming webhook (URL from a file).
 *
 * Required when CI=true; skipped with an install hint otherwise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAlertmanagerConfig } from "../lib/alerts/alertmanager_config.ts";
import { NO_CHANNELS, notificationChannels, smtpPasswordProblem } from "../lib/alerts/notification_channels.ts";
import { ALERTMANAGER_BINARY, haveServerBinaries, INSTALL_HINT } from "../commands/stack/native.ts";
import { cleanup, freePort, tempDir, waitFor } from "./harness.ts";
import { makeTestTls, type SlackSink, type SmtpSink, startSlackSink, startSmtpSink } from "../tools/alerts/notification_sinks.ts";

const available = haveServerBinaries();
const required = process.env.CI === "true";
if (!available && !required) console.warn(`notification tests skipped: ${INSTALL_HINT}`);

const SMTP_USER = "alertmanager";
const SMTP_PASSWORD = "smtp-secret-for-the-test";
const dirs: string[] = [];
const delays: Record<string, number> = {};
let smtp: SmtpSink;
let slack: SlackSink;
let am: ChildProcess;
let amUrl: string;
let amLog = "";

/** An alert as Prometheus would post it (ends in the past = resolved). */
const alert = (alertname: string, pipeline: string, endsAt?: Date) => ({
  labels: { alertname, pipeline, severity: "critical", job: "etl-metrics", instance: "etl-metrics:8083" },
  annotations: {
    summary: `ETL pipeline ${pipeline} is unhealthy`,
    description: `Pipeline ${pipeline} reports etl_health_status 0.`,
    runbook_url: "https://example.org/runbook#etlhealthcheckfailed",
  },
  ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
});

async function post(alerts: unknown[]): Promise<number> {
  const postedAt = Date.now();
  const res = await fetch(`${amUrl}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts) });
  expect(res.status).toBe(200);
  return postedAt;
}

describe.skipIf(!available && !required)("e-mail and Slack through a real Alertmanager", () => {
  beforeAll(async () => {
    const dir = tempDir("etl-notify-");
    dirs.push(dir);
    const tls = makeTestTls(dir, "smtp");
    smtp = await startSmtpSink({ tls, user: SMTP_USER, password: SMTP_PASSWORD, port: await freePort() });
    slack = await startSlackSink(await freePort());
    writeFileSync(join(dir, "smtp_password"), SMTP_PASSWORD);
    writeFileSync(join(dir, "slack_webhook_url"), `${slack.url}\n`);
    writeFileSync(join(dir, "receiver_password"), "unused\n");
    const channels = notificationChannels({
      ...NO_CHANNELS,
      emailTo: "etl-oncall@example.org, data-team@example.org",
      smtpSmarthost: `127.0.0.1:${smtp.port}`,
      smtpFrom: "alertmanager@example.org",
      smtpUser: SMTP_USER,
      smtpPasswordFile: join(dir, "smtp_password"),
      smtpCaFile: tls.caFile,
      slackWebhookUrlFile: join(dir, "slack_webhook_url"),
      slackChannel: "#etl-alerts",
    });
    if (!channels.ok) throw new Error(channels.message);
    const configFile = join(dir, "alertmanager.yml");
    // The webhook lands beside Slack: a failing integration would hold each flush for ~10 s of retries.
    writeFileSync(configFile, renderAlertmanagerConfig({
      receiverUrl: new URL("/webhook", slack.url).href,
      receiverPasswordFile: join(dir, "receiver_password"),
      channels: channels.channels,
      timing: { criticalGroupWait: "0s", criticalGroupInterval: "1s", warningGroupWait: "0s", warningGroupInterval: "1s" },
    }));
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(ALERTMANAGER_BINARY, [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=debug",
    ], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    am.stderr!.on("data", (c) => (amLog += c));
    await waitFor(async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined), 15_000, "Alertmanager ready");
  }, 60_000);

  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill("SIGTERM");
      await new Promise((r) => am.once("exit", r));
    }
    await smtp?.close();
    await slack?.close();
    cleanup(dirs);
    if (process.env.ETL_TEST_SHOW_LOGS) console.log(amLog);
    if (Object.keys(delays).length > 0) console.log(`notification delays (s) from posting to Alertmanager: ${JSON.stringify(delays)}`);
  }, 30_000);

  it("e-mails a firing alert over STARTTLS with AUTH, to every recipient, naming alert and pipeline; then its resolution", async () => {
    const postedAt = await post([alert("EtlHealthCheckFailed", "orders")]);
    const firing = await waitFor(() => smtp.mails.find((m) => m.subject.startsWith("[FIRING]")), 30_000, "the firing e-mail");
    delays.emailFiring = (firing.receivedAt - postedAt) / 1000;
    expect(firing.subject).toBe("[FIRING] EtlHealthCheckFailed pipeline orders");
    expect(firing.secure).toBe(true);
    expect(firing.user).toBe(SMTP_USER);
    expect(smtp.refusedLogins).toBe(0);
    expect(firing.envelopeTo.sort()).toEqual(["data-team@example.org", "etl-oncall@example.org"]);
    expect(firing.to.sort()).toEqual(["data-team@example.org", "etl-oncall@example.org"]);
    expect(firing.from).toBe("alertmanager@example.org");
    expect(firing.text).toContain("EtlHealthCheckFailed (pipeline orders): ETL pipeline orders is unhealthy");
    expect(firing.text).toContain("Runbook: https://example.org/runbook#etlhealthcheckfailed");

    const resolvedAt = await post([alert("EtlHealthCheckFailed", "orders", new Date())]);
    const resolved = await waitFor(() => smtp.mails.find((m) => m.subject.startsWith("[RESOLVED]")), 30_000, "the resolved e-mail");
    delays.emailResolved = (resolved.receivedAt - resolvedAt) / 1000;
    expect(resolved.subject).toBe("[RESOLVED] EtlHealthCheckFailed pipeline orders");
    expect(slack.others.some((r) => r.path === "/webhook")).toBe(true); // the webhook still gets it too
  }, 60_000);

  it("fails the login when the password file ends with a newline (Alertmanager 0.25 sends it verbatim)", async () => {
    // Why smtpPasswordProblem refuses such a file: Alertmanager reads the file at each e-mail.
    const file = join(dirs[0]!, "smtp_password");
    writeFileSync(file, `${SMTP_PASSWORD}\n`);
    try {
      const before = smtp.mails.length;
      await post([alert("EtlHealthCheckFailed", "newline-trap")]);
      await waitFor(() => (smtp.refusedLogins > 0 ? true : undefined), 30_000, "a refused login");
      expect(smtp.mails.length).toBe(before);
      expect(smtpPasswordProblem(`${SMTP_PASSWORD}\n`)).toMatch(/newline/);
    } finally {
      writeFileSync(file, SMTP_PASSWORD);
    }
  }, 60_000);

  it("posts to the Slack webhook from the URL file: title and text name alert and pipeline, red firing, green resolved", async () => {
    const postedAt = await post([alert("EtlHealthCheckFailed", "customers")]);
    const firing = await waitFor(
      () => slack.messages.find((m) => m.body.attachments[0]?.title === "[FIRING] EtlHealthCheckFailed pipeline customers"),
      30_000,
      "the firing Slack message",
    );
    delays.slackFiring = (firing.receivedAt - postedAt) / 1000;
    expect(firing.body.channel).toBe("#etl-alerts");
    expect(firing.body.attachments).toHaveLength(1);
    expect(firing.body.attachments[0]!.color).toBe("danger");
    expect(firing.body.attachments[0]!.text).toBe(
      "EtlHealthCheckFailed (pipeline customers): ETL pipeline customers is unhealthy\n" +
        "Pipeline customers reports etl_health_status 0.\nRunbook: https://example.org/runbook#etlhealthcheckfailed\n",
    );

    const resolvedAt = await post([alert("EtlHealthCheckFailed", "customers", new Date())]);
    const resolved = await waitFor(
      () => slack.messages.find((m) => m.body.attachments[0]?.title === "[RESOLVED] EtlHealthCheckFailed pipeline customers"),
      30_000,
      "the resolved Slack message",
    );
    delays.slackResolved = (resolved.receivedAt - resolvedAt) / 1000;
    expect(resolved.body.attachments[0]!.color).toBe("good");
  }, 60_000);
});
