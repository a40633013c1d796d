/**
 * Notification latency through a real Alertmanager (Debian's 0.25): alerts
 * posted to its API one at a time, each timed to the e-mail arriving at a
 * real SMTP server on loopback (STARTTLS and AUTH) and to the Slack-style
 * webhook POST. `group_wait` 0 s: what is measured is Alertmanager's own
 * dispatch and delivery, not the waits the routes configure.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderAlertmanagerConfig } from "../lib/alerts/alertmanager_config.ts";
import { startNotificationSinks } from "../tools/alerts/notification_sinks.ts";
import { freePort } from "../tools/free_port.ts";

/** Milliseconds from each POST to the e-mail and to the Slack message, in order. */
export async function measureNotificationLatency(dir: string, count: number): Promise<{ emailMs: number[]; slackMs: number[] }> {
  // A fresh Alertmanager state: its notification log from an earlier run already
  // holds these alerts as sent, and it would not send them again for hours.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { smtp, slack, channels, close } = await startNotificationSinks(dir, { smtp: await freePort(), slack: await freePort() });
  writeFileSync(join(dir, "receiver_password"), "unused");
  writeFileSync(join(dir, "alertmanager.yml"), renderAlertmanagerConfig({
    receiverUrl: new URL("/webhook", slack.url).href,
    receiverPasswordFile: join(dir, "receiver_password"),
    channels,
    timing: { criticalGroupWait: "0s", criticalGroupInterval: "1s", warningGroupWait: "0s", warningGroupInterval: "1s" },
  }));
  const port = await freePort();
  const am: ChildProcess = spawn("prometheus-alertmanager", [
    `--config.file=${join(dir, "alertmanager.yml")}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
  ], { cwd: dir, stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const waitUntil = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    for (;;) {
      const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const emailMs: number[] = [];
    const slackMs: number[] = [];
    for (let i = 0; i < count; i++) {
      const pipeline = `bench-${i}`;
      const postedAt = Date.now();
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ labels: { alertname: "EtlHealthCheckFailed", pipeline, severity: "critical", job: "etl-metrics" }, annotations: { summary: "bench" } }]),
      });
      if (res.status !== 200) throw new Error(`bench: Alertmanager answered ${res.status}`);
      const subject = `[FIRING] EtlHealthCheckFailed pipeline ${pipeline}`;
      await waitUntil(() => smtp.mails.some((m) => m.subject === subject) && slack.messages.some((m) => m.body.attachments[0]?.title === subject), subject);
      emailMs.push(smtp.mails.find((m) => m.subject === subject)!.receivedAt - postedAt);
      slackMs.push(slack.messages.find((m) => m.body.attachments[0]?.title === subject)!.receivedAt - postedAt);
    }
    return { emailMs, slackMs };
  } finally {
    am.kill("SIGTERM");
    await new Promise((r) => (am.exitCode !== null ? r(null) : am.once("exit", r)));
    await close();
  }
}
