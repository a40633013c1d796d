/**
 * The e-mail and Slack settings of a native stack, read from the
 * environment at start-up: relative file paths are resolved against the
 * working folder (Alertmanager opens them from its own), and the secret
 * files are checked now, so a wrong one is a clear error at start rather
 * than a notification that silently never arrives.
 *
 * @example
 * ```ts
 * const r = channelsFromEnv(process.env, process.cwd());
 * if (!r.ok) throw new Error(r.message);
 * ```
 * @module
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import {
  NOTIFICATION_SETTINGS,
  notificationChannels,
  type NotificationChannels,
  smtpPasswordProblem,
} from "../../lib/alerts/notification_channels.ts";
import { helpText, parseSettings } from "../../lib/config/settings.ts";

const FILE_SETTINGS = ["smtpPasswordFile", "smtpCaFile", "slackWebhookUrlFile"] as const;

/** The `--help` lines of the notification settings. */
export const NOTIFICATION_HELP = helpText(NOTIFICATION_SETTINGS, "Alert e-mail and Slack (environment variables; flags are not read by stack:local):");

/** Parses and checks the notification settings of `env`. */
export function channelsFromEnv(
  env: Record<string, string | undefined>,
  cwd: string,
): { ok: true; channels: NotificationChannels } | { ok: false; message: string } {
  const resolved = { ...env };
  for (const key of FILE_SETTINGS) {
    const name = NOTIFICATION_SETTINGS[key].env;
    const value = resolved[name];
    if (value && !isAbsolute(value)) resolved[name] = resolve(cwd, value);
  }
  const parsed = parseSettings(NOTIFICATION_SETTINGS, resolved, []);
  if (!parsed.ok) return parsed;
  const checked = notificationChannels(parsed.values);
  if (!checked.ok) return checked;
  const read = (key: (typeof FILE_SETTINGS)[number], file: string): string | { message: string } => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      return { message: `${NOTIFICATION_SETTINGS[key].env}=${file}: ${(error as Error).message}` };
    }
  };
  const { email, slack } = checked.channels;
  const problems: string[] = [];
  if (email?.auth) {
    const text = read("smtpPasswordFile", email.auth.passwordFile);
    const problem = typeof text === "string" ? smtpPasswordProblem(text) : text.message;
    if (problem) problems.push(typeof text === "string" ? `${NOTIFICATION_SETTINGS.smtpPasswordFile.env}=${email.auth.passwordFile} ${problem}` : problem);
  }
  if (email?.caFile) {
    const text = read("smtpCaFile", email.caFile);
    if (typeof text !== "string") problems.push(text.message);
    else if (!text.includes("-----BEGIN CERTIFICATE-----")) problems.push(`${NOTIFICATION_SETTINGS.smtpCaFile.env}=${email.caFile} holds no PEM certificate`);
  }
  if (slack) {
    const text = read("slackWebhookUrlFile", slack.webhookUrlFile);
    if (typeof text !== "string") problems.push(text.message);
    else if (!/^https?:\/\/\S+$/.test(text.trim())) problems.push(`${NOTIFICATION_SETTINGS.slackWebhookUrlFile.env}=${slack.webhookUrlFile} holds no http(s) URL`);
  }
  return problems.length > 0 ? { ok: false, message: `Bad notification settings:\n  ${problems.join("\n  ")}` } : checked;
}
