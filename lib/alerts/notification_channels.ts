/**
 * E-mail and Slack notifications: the settings that switch each on, and the
 * Alertmanager 0.25 `email_configs` / `slack_configs` they render to. They
 * join the webhook in the default receiver, so every alert the routes send
 * to the receiver also goes to e-mail and Slack, with the same grouping and
 * timing. Secrets stay in files (`auth_password_file`, `api_url_file`):
 * Alertmanager reads them at each notification, the configuration holds
 * only their paths. PagerDuty ({@linkcode pagerdutyExample}) is shipped as
 * a commented block only: it was never tried against a real endpoint.
 *
 * @example
 * ```ts
 * import { notificationChannels, notificationIntegrations } from "./notification_channels.ts";
 * const channels = notificationChannels({ ...NO_CHANNELS, emailTo: "oncall@example.org", smtpSmarthost: "smtp.example.org:587", smtpFrom: "am@example.org" });
 * if (channels.ok) notificationIntegrations(channels.channels).email_configs; // [{ to: "oncall@example.org", … }]
 * ```
 * @module
 */
import * as z from "zod";
import type { SettingsOf, SettingsSpec } from "../config/settings.ts";

const optionalText = z.string().min(1, "must not be empty").optional();
const absolutePath = z
  .string()
  .refine((p) => p.startsWith("/"), "must be an absolute path (Alertmanager opens it from its own working folder)")
  .optional();

/**
 * The settings of the two channels; each is off until its first variable
 * (`ETL_ALERT_EMAIL_TO`, `ETL_ALERT_SLACK_WEBHOOK_URL_FILE`) is set.
 * File paths must be absolute: the edge resolves relative ones first.
 */
export const NOTIFICATION_SETTINGS = {
  emailTo: {
    env: "ETL_ALERT_EMAIL_TO",
    flag: "alert-email-to",
    help: "Send every alert by e-mail to these addresses (comma-separated); e-mail is off when unset.",
    defaultText: "unset (no e-mail)",
    schema: optionalText,
  },
  smtpSmarthost: {
    env: "ETL_SMTP_SMARTHOST",
    flag: "smtp-smarthost",
    help: "SMTP server as host:port (587 for STARTTLS); required with e-mail.",
    defaultText: "unset",
    schema: z.string().regex(/^[^\s:]+:\d{1,5}$/, "must be host:port").optional(),
  },
  smtpFrom: {
    env: "ETL_SMTP_FROM",
    flag: "smtp-from",
    help: "Sender address of the alert e-mails; required with e-mail.",
    defaultText: "unset",
    schema: optionalText,
  },
  smtpUser: {
    env: "ETL_SMTP_USER",
    flag: "smtp-user",
    help: "SMTP user (AUTH PLAIN/LOGIN); needs ETL_SMTP_PASSWORD_FILE. No authentication when unset.",
    defaultText: "unset",
    schema: optionalText,
  },
  smtpPasswordFile: {
    env: "ETL_SMTP_PASSWORD_FILE",
    flag: "smtp-password-file",
    help: "File holding the SMTP password (read by Alertmanager at each e-mail).",
    defaultText: "unset",
    schema: absolutePath,
  },
  smtpRequireTls: {
    env: "ETL_SMTP_REQUIRE_TLS",
    flag: "smtp-require-tls",
    help: "Refuse to send unless the server offers STARTTLS (true or false).",
    defaultText: "true",
    schema: z.enum(["true", "false"], { error: "must be true or false" }).default("true").transform((v) => v === "true"),
  },
  smtpCaFile: {
    env: "ETL_SMTP_CA_FILE",
    flag: "smtp-ca-file",
    help: "CA certificate (PEM) the SMTP server's certificate must chain to; the system's CAs when unset.",
    defaultText: "unset",
    schema: absolutePath,
  },
  slackWebhookUrlFile: {
    env: "ETL_ALERT_SLACK_WEBHOOK_URL_FILE",
    flag: "alert-slack-webhook-url-file",
    help: "File holding a Slack incoming-webhook URL; Slack is off when unset.",
    defaultText: "unset (no Slack)",
    schema: absolutePath,
  },
  slackChannel: {
    env: "ETL_ALERT_SLACK_CHANNEL",
    flag: "alert-slack-channel",
    help: "Slack channel to post in (the webhook's own channel when unset).",
    defaultText: "unset",
    schema: optionalText,
  },
} satisfies SettingsSpec;

/** The parsed settings. */
export type NotificationSettings = SettingsOf<typeof NOTIFICATION_SETTINGS>;

/** Every channel off (the settings' defaults). */
export const NO_CHANNELS: Readonly<NotificationSettings> = Object.freeze({
  emailTo: undefined,
  smtpSmarthost: undefined,
  smtpFrom: undefined,
  smtpUser: undefined,
  smtpPasswordFile: undefined,
  smtpRequireTls: true,
  smtpCaFile: undefined,
  slackWebhookUrlFile: undefined,
  slackChannel: undefined,
});

/** The e-mail channel, complete. */
export interface EmailChannel {
  to: string[];
  smarthost: string;
  from: string;
  auth?: { username: string; passwordFile: string };
  requireTls: boolean;
  caFile?: string;
}

/** The Slack channel, complete. */
export interface SlackChannel {
  webhookUrlFile: string;
  channel?: string;
}

/** The channels switched on. */
export interface NotificationChannels {
  email?: EmailChannel;
  slack?: SlackChannel;
}

/**
 * Checks the settings together: a half-configured channel is an error
 * naming what is missing, never a silently dropped notification.
 *
 * @example
 * ```ts
 * notificationChannels({ ...NO_CHANNELS, emailTo: "a@example.org" }); // { ok: false, message: "ETL_ALERT_EMAIL_TO needs ETL_SMTP_SMARTHOST, ETL_SMTP_FROM" }
 * ```
 */
export function notificationChannels(
  s: NotificationSettings,
): { ok: true; channels: NotificationChannels } | { ok: false; message: string } {
  const problems: string[] = [];
  const env = (key: keyof NotificationSettings) => NOTIFICATION_SETTINGS[key].env;
  const channels: NotificationChannels = {};
  const emailOnly = (["smtpSmarthost", "smtpFrom", "smtpUser", "smtpPasswordFile", "smtpCaFile"] as const).filter((k) => s[k] !== undefined);
  if (s.emailTo !== undefined) {
    const to = s.emailTo.split(",").map((a) => a.trim()).filter((a) => a !== "");
    const missing = (["smtpSmarthost", "smtpFrom"] as const).filter((k) => s[k] === undefined).map(env);
    if (missing.length > 0) problems.push(`${env("emailTo")} needs ${missing.join(", ")}`);
    const bad = [...to, ...(s.smtpFrom ? [s.smtpFrom] : [])].filter((a) => !/^[^\s@,<>]+@[^\s@,<>]+$/.test(a));
    if (bad.length > 0 || to.length === 0) problems.push(`not an e-mail address: ${JSON.stringify(bad.length > 0 ? bad.join(",") : s.emailTo)}`);
    if ((s.smtpUser === undefined) !== (s.smtpPasswordFile === undefined)) {
      problems.push(`${env("smtpUser")} and ${env("smtpPasswordFile")} go together`);
    }
    if (problems.length === 0) {
      channels.email = {
        to,
        smarthost: s.smtpSmarthost!,
        from: s.smtpFrom!,
        requireTls: s.smtpRequireTls,
        ...(s.smtpUser !== undefined ? { auth: { username: s.smtpUser, passwordFile: s.smtpPasswordFile! } } : {}),
        ...(s.smtpCaFile !== undefined ? { caFile: s.smtpCaFile } : {}),
      };
    }
  } else if (emailOnly.length > 0) {
    problems.push(`${emailOnly.map(env).join(", ")} set without ${env("emailTo")}: set it to switch e-mail on`);
  }
  if (s.slackWebhookUrlFile !== undefined) {
    channels.slack = { webhookUrlFile: s.slackWebhookUrlFile, ...(s.slackChannel !== undefined ? { channel: s.slackChannel } : {}) };
  } else if (s.slackChannel !== undefined) {
    problems.push(`${env("slackChannel")} set without ${env("slackWebhookUrlFile")}`);
  }
  return problems.length > 0 ? { ok: false, message: `Bad notification settings:\n  ${problems.join("\n  ")}` } : { ok: true, channels };
}

/** `pipeline orders` when the group has one pipeline; nothing for an endpoint alert. */
const PIPELINE = '{{ with .CommonLabels.pipeline }} pipeline {{ . }}{{ end }}';

/**
 * The e-mail subject and Slack title: status, alert and pipeline, e.g.
 * `[FIRING] EtlHealthCheckFailed pipeline orders`.
 */
export const NOTIFICATION_TITLE = `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}${PIPELINE}`;

/** One block per alert: its summary, description and runbook. */
export const NOTIFICATION_TEXT = [
  "{{ range .Alerts }}{{ .Labels.alertname }}{{ with .Labels.pipeline }} (pipeline {{ . }}){{ end }}: {{ .Annotations.summary }}",
  "{{ .Annotations.description }}",
  "Runbook: {{ .Annotations.runbook_url }}",
  "{{ end }}",
].join("\n");

/**
 * The Alertmanager integrations of the channels switched on, to add to a
 * receiver. Resolved notifications are sent too; Slack's attachment colour
 * is Alertmanager's default (`danger` firing, `good` resolved).
 *
 * @example
 * ```ts
 * notificationIntegrations({ slack: { webhookUrlFile: "/s/slack_webhook_url" } }); // { slack_configs: [{ api_url_file: "/s/slack_webhook_url", … }] }
 * ```
 */
export function notificationIntegrations(channels: NotificationChannels): Record<string, Array<Record<string, unknown>>> {
  const out: Record<string, Array<Record<string, unknown>>> = {};
  const { email, slack } = channels;
  if (email) {
    out.email_configs = [
      {
        to: email.to.join(", "),
        from: email.from,
        smarthost: email.smarthost,
        ...(email.auth ? { auth_username: email.auth.username, auth_password_file: email.auth.passwordFile } : {}),
        require_tls: email.requireTls,
        ...(email.caFile ? { tls_config: { ca_file: email.caFile } } : {}),
        send_resolved: true,
        headers: { Subject: NOTIFICATION_TITLE },
        text: NOTIFICATION_TEXT,
      },
    ];
  }
  if (slack) {
    out.slack_configs = [
      {
        api_url_file: slack.webhookUrlFile,
        ...(slack.channel ? { channel: slack.channel } : {}),
        send_resolved: true,
        title: NOTIFICATION_TITLE,
        text: NOTIFICATION_TEXT,
      },
    ];
  }
  return out;
}

/**
 * Example channels for the commented block of the committed file, with the
 * Compose stack's secret paths.
 */
export const EXAMPLE_CHANNELS: Readonly<NotificationChannels> = Object.freeze({
  email: {
    to: ["etl-oncall@example.org"],
    smarthost: "smtp.example.org:587",
    from: "alertmanager@example.org",
    auth: { username: "alertmanager@example.org", passwordFile: "/etc/alertmanager/secrets/smtp_password" },
    requireTls: true,
  },
  slack: { webhookUrlFile: "/etc/alertmanager/secrets/slack_webhook_url", channel: "#etl-alerts" },
});

/**
 * PagerDuty, commented only (never tried here): Events API v2 with the
 * integration's routing key in a file.
 *
 * @example
 * ```ts
 * pagerdutyExample().pagerduty_configs[0]!.routing_key_file; // "/etc/alertmanager/secrets/pagerduty_routing_key"
 * ```
 */
export function pagerdutyExample() {
  return {
    pagerduty_configs: [
      {
        routing_key_file: "/etc/alertmanager/secrets/pagerduty_routing_key",
        send_resolved: true,
        description: NOTIFICATION_TITLE,
      },
    ],
  };
}

/**
 * Checks the SMTP password file's text. Alertmanager 0.25 sends
 * `auth_password_file` verbatim, a final newline included (the test proved
 * it: the login fails), so a file written by `echo` must be refused here.
 *
 * @example
 * ```ts
 * smtpPasswordProblem("s3cret\n"); // "ends with a newline: …"
 * smtpPasswordProblem("s3cret"); // undefined
 * ```
 */
export function smtpPasswordProblem(text: string): string | undefined {
  if (text === "") return "is empty";
  if (/[\r\n]$/.test(text)) return "ends with a newline: Alertmanager 0.25 would send it as part of the password (write it with printf '%s')";
  return undefined;
}
