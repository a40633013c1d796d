import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { parseSettings } from "../config/settings.ts";
import { renderAlertmanagerConfig } from "./alertmanager_config.ts";
import {
  NO_CHANNELS,
  NOTIFICATION_SETTINGS,
  notificationChannels,
  type NotificationSettings,
  notificationIntegrations,
  smtpPasswordProblem,
} from "./notification_channels.ts";

const hasAmtool = spawnSync("amtool", ["--version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "etl-channels-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EMAIL = { emailTo: "oncall@example.org, second@example.org", smtpSmarthost: "127.0.0.1:2525", smtpFrom: "am@example.org" };
const settings = (env: Record<string, string>) => {
  const r = parseSettings(NOTIFICATION_SETTINGS, env, []);
  if (!r.ok) throw new Error(r.message);
  return r.values;
};

/** The configuration rendered for `s`, or the error message. */
function render(s: NotificationSettings): string {
  const c = notificationChannels(s);
  if (!c.ok) throw new Error(c.message);
  return renderAlertmanagerConfig({ receiverUrl: "http://127.0.0.1:9095/webhook", receiverPasswordFile: "/s/receiver_password", channels: c.channels });
}

describe("notification settings", () => {
  it("are all off by default, and the default receiver then has only the webhook", () => {
    expect(settings({})).toEqual(NO_CHANNELS);
    expect(notificationChannels(NO_CHANNELS)).toEqual({ ok: true, channels: {} });
    expect(Object.keys(parse(render(NO_CHANNELS)).receivers[0])).toEqual(["name", "webhook_configs"]);
  });

  it("read the environment variables the README names", () => {
    const s = settings({
      ETL_ALERT_EMAIL_TO: "a@example.org",
      ETL_SMTP_SMARTHOST: "smtp.example.org:587",
      ETL_SMTP_FROM: "am@example.org",
      ETL_SMTP_USER: "am",
      ETL_SMTP_PASSWORD_FILE: "/s/smtp_password",
      ETL_SMTP_REQUIRE_TLS: "false",
      ETL_SMTP_CA_FILE: "/s/ca.crt",
      ETL_ALERT_SLACK_WEBHOOK_URL_FILE: "/s/slack_webhook_url",
      ETL_ALERT_SLACK_CHANNEL: "#etl",
    });
    expect(notificationChannels(s)).toEqual({
      ok: true,
      channels: {
        email: { to: ["a@example.org"], smarthost: "smtp.example.org:587", from: "am@example.org", requireTls: false, auth: { username: "am", passwordFile: "/s/smtp_password" }, caFile: "/s/ca.crt" },
        slack: { webhookUrlFile: "/s/slack_webhook_url", channel: "#etl" },
      },
    });
  });

  it("render e-mail and Slack next to the webhook, with only file names for secrets", () => {
    const text = render({ ...NO_CHANNELS, ...EMAIL, smtpUser: "am", smtpPasswordFile: "/s/smtp_password", slackWebhookUrlFile: "/s/slack" });
    const receiver = parse(text).receivers[0];
    expect(receiver.email_configs[0]).toMatchObject({
      to: "oncall@example.org, second@example.org",
      from: "am@example.org",
      smarthost: "127.0.0.1:2525",
      auth_username: "am",
      auth_password_file: "/s/smtp_password",
      require_tls: true,
      send_resolved: true,
    });
    expect(receiver.slack_configs[0]).toMatchObject({ api_url_file: "/s/slack", send_resolved: true });
    expect(receiver.slack_configs[0].channel).toBeUndefined();
    expect(text).not.toMatch(/\b(auth_password|api_url|password):/);
    expect(text).not.toContain("# email_configs"); // no commented block when channels are given
  });

  it.each([
    [{ emailTo: "a@example.org" }, "ETL_ALERT_EMAIL_TO needs ETL_SMTP_SMARTHOST, ETL_SMTP_FROM"],
    [{ ...EMAIL, smtpUser: "am" }, "ETL_SMTP_USER and ETL_SMTP_PASSWORD_FILE go together"],
    [{ ...EMAIL, smtpPasswordFile: "/p" }, "ETL_SMTP_USER and ETL_SMTP_PASSWORD_FILE go together"],
    [{ ...EMAIL, emailTo: "not-an-address" }, 'not an e-mail address: "not-an-address"'],
    [{ ...EMAIL, emailTo: " , " }, 'not an e-mail address: " , "'],
    [{ smtpSmarthost: "smtp:25" }, "ETL_SMTP_SMARTHOST set without ETL_ALERT_EMAIL_TO"],
    [{ slackChannel: "#x" }, "ETL_ALERT_SLACK_CHANNEL set without ETL_ALERT_SLACK_WEBHOOK_URL_FILE"],
  ])("refuse a half-configured channel: %j", (partial, message) => {
    const r = notificationChannels({ ...NO_CHANNELS, ...partial });
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.message).toContain(message);
  });

  it("refuse malformed values naming the variable", () => {
    for (const [env, value] of [["ETL_SMTP_SMARTHOST", "smtp.example.org"], ["ETL_SMTP_PASSWORD_FILE", "secrets/smtp"], ["ETL_SMTP_REQUIRE_TLS", "yes"]]) {
      const r = parseSettings(NOTIFICATION_SETTINGS, { [env!]: value }, []);
      expect(r.ok).toBe(false);
      expect(r.ok ? "" : r.message).toContain(`${env}=${JSON.stringify(value)}`);
    }
  });

  it("refuse an SMTP password file Alertmanager 0.25 would misread", () => {
    expect(smtpPasswordProblem("pw")).toBeUndefined();
    expect(smtpPasswordProblem("pw\n")).toMatch(/^ends with a newline/);
    expect(smtpPasswordProblem("pw\r")).toMatch(/^ends with a newline/);
    expect(smtpPasswordProblem("")).toBe("is empty");
  });

  it("give every integration the same title naming alert and pipeline", () => {
    const i = notificationIntegrations({ email: { to: ["a@b.c"], smarthost: "h:1", from: "f@b.c", requireTls: true }, slack: { webhookUrlFile: "/x" } });
    expect(i.email_configs![0]!.headers).toEqual({ Subject: i.slack_configs![0]!.title });
    expect(i.slack_configs![0]!.title).toBe("[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ with .CommonLabels.pipeline }} pipeline {{ . }}{{ end }}");
  });
});

/** Every combination: e-mail off / plain / STARTTLS with CA / with auth, times Slack off / on / with channel. */
const EMAIL_VARIANTS: Partial<NotificationSettings>[] = [
  {},
  { ...EMAIL, smtpRequireTls: false },
  { ...EMAIL, smtpCaFile: "/s/ca.crt" },
  { ...EMAIL, smtpUser: "am", smtpPasswordFile: "/s/smtp_password" },
  { ...EMAIL, smtpUser: "am", smtpPasswordFile: "/s/smtp_password", smtpCaFile: "/s/ca.crt", smtpRequireTls: false },
];
const SLACK_VARIANTS: Partial<NotificationSettings>[] = [{}, { slackWebhookUrlFile: "/s/slack" }, { slackWebhookUrlFile: "/s/slack", slackChannel: "#etl-alerts" }];

describe.skipIf(!hasAmtool && process.env.CI !== "true")("amtool check-config (apt-get install prometheus-alertmanager)", () => {
  it.each(EMAIL_VARIANTS.flatMap((e, i) => SLACK_VARIANTS.map((s, j) => [i, j, { ...e, ...s }] as const)))(
    "passes for e-mail variant %i with Slack variant %i",
    (i, j, partial) => {
      const file = join(dir, `am-${i}-${j}.yml`);
      writeFileSync(file, render({ ...NO_CHANNELS, ...partial }));
      const run = spawnSync("amtool", ["check-config", file], { encoding: "utf8" });
      expect(run.stdout + run.stderr).toContain("SUCCESS");
      expect(run.status).toBe(0);
      const receiver = parse(render({ ...NO_CHANNELS, ...partial })).receivers[0];
      expect(receiver.email_configs !== undefined).toBe(i > 0);
      expect(receiver.slack_configs !== undefined).toBe(j > 0);
    },
  );

  it("whatever the settings, they are refused with a message or render a configuration amtool accepts", () => {
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    let checked = 0;
    fc.assert(
      fc.property(
        fc.record({
          emailTo: opt(fc.constantFrom("a@example.org", "a@example.org,b@example.org", "nope")),
          smtpSmarthost: opt(fc.constant("127.0.0.1:25")),
          smtpFrom: opt(fc.constant("am@example.org")),
          smtpUser: opt(fc.constant("am")),
          smtpPasswordFile: opt(fc.constant("/s/pw")),
          smtpRequireTls: fc.boolean(),
          smtpCaFile: opt(fc.constant("/s/ca.crt")),
          slackWebhookUrlFile: opt(fc.constant("/s/slack")),
          slackChannel: opt(fc.constant("#c")),
        }),
        (s) => {
          const c = notificationChannels(s);
          if (!c.ok) {
            expect(c.message).toMatch(/^Bad notification settings:\n {2}\S/);
            return;
          }
          const file = join(dir, `prop-${checked++}.yml`);
          writeFileSync(file, renderAlertmanagerConfig({ receiverUrl: "http://127.0.0.1:1/webhook", receiverPasswordFile: "/pw", channels: c.channels }));
          expect(spawnSync("amtool", ["check-config", file]).status).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  }, 30_000);
});
