/**
 * The alert webhook receiver: Alertmanager's `webhook_configs` POST here; each
 * notification is logged, kept in memory (the last 200, on
 * `/notifications`) and appended to `<data-dir>/notifications.jsonl`.
 *
 *     npm run receiver                         # http://127.0.0.1:9095/
 *     curl -u "alertmanager:$(cat secrets/receiver_password)" http://127.0.0.1:9095/notifications
 *
 * @module
 */
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import * as z from "zod";
import { createWebhookReceiverApp } from "../../handlers/webhook_receiver.ts";
import { summarizeWebhook } from "../../lib/receiver/alertmanager_webhook.ts";
import { createNotificationRing, type Notification, type NotificationStore } from "../../lib/receiver/notification_ring.ts";
import { COMMON_SETTINGS, portSetting, type SettingsSpec } from "../../lib/config/settings.ts";
import { TLS_SETTINGS } from "../../lib/config/tls_settings.ts";
import { bcryptCompareOrExit, credentialAuthOrExit } from "../credentials.ts";
import { counted } from "../logging.ts";
import { serveOrExit } from "../serve.ts";
import { onShutdown, settingAsGiven, startWorker } from "../start.ts";
import { readTlsOrExit } from "../tls.ts";

const RECEIVER_SETTINGS = {
  dataDir: { ...COMMON_SETTINGS.dataDir, help: "Folder of notifications.jsonl (unless --notifications-file says otherwise)." },
  host: COMMON_SETTINGS.host,
  receiverPort: {
    env: "RECEIVER_PORT",
    flag: "receiver-port",
    help: "Port of the webhook receiver: /webhook, /notifications.",
    defaultText: "9095",
    schema: portSetting(9095),
  },
  receiverUser: {
    env: "ETL_RECEIVER_USER",
    flag: "receiver-user",
    help: "User name Alertmanager (and you) send to /webhook and /notifications.",
    defaultText: "alertmanager",
    schema: z.string().regex(/^[^:\s]{1,64}$/, "must be 1-64 characters without ':' or spaces").default("alertmanager"),
  },
  receiverPasswordFile: {
    env: "ETL_RECEIVER_PASSWORD_FILE",
    flag: "receiver-password-file",
    help: "File with the receiver's password, or its bcrypt hash; made on first run when unset.",
    defaultText: "./secrets/receiver_password",
    schema: z.string().min(1).optional(),
  },
  notificationsFile: {
    env: "ETL_NOTIFICATIONS_FILE",
    flag: "notifications-file",
    help: "JSON Lines file every notification is appended to; \"off\" keeps them in memory only.",
    defaultText: "<data-dir>/notifications.jsonl",
    schema: z.string().min(1).optional(),
  },
  ...TLS_SETTINGS,
  logLevel: COMMON_SETTINGS.logLevel,
} satisfies SettingsSpec;

const settings = await startWorker(RECEIVER_SETTINGS, "Usage: receiver [flags]");
const tls = readTlsOrExit(settings);
const log = getLogger(["etl", "receiver"]);
const file = settings.notificationsFile === "off" ? null : (settings.notificationsFile ?? join(settings.dataDir, "notifications.jsonl"));
const url = `${tls ? "https" : "http"}://${settings.host}:${settings.receiverPort}`;

const { credential, auth } = await credentialAuthOrExit("receiver", {
  user: settings.receiverUser,
  passwordFile: settings.receiverPasswordFile,
  devName: "receiver",
  setting: "ETL_RECEIVER_PASSWORD_FILE",
  purpose: "the webhook receiver",
  hint: (passwordFile) => `curl -u "${settings.receiverUser}:$(cat ${passwordFile})" ${url}/notifications`,
}, "etl-receiver", await bcryptCompareOrExit("receiver"));

if (file !== null) {
  // Fail at start, not at the first alert, when the file cannot be written.
  await mkdir(dirname(file), { recursive: true }).then(() => appendFile(file, "")).catch(exitWith);
}
const store = fileBackedStore(file);
const app = createWebhookReceiverApp({ store, auth });

const server = await serveOrExit(app.fetch, { port: settings.receiverPort, hostname: settings.host,
  portSetting: settingAsGiven(settings, "receiverPort"),
  hostSetting: settingAsGiven(settings, "host"),
  tls,
});
const kept = file === null ? "notifications kept in memory only, as ETL_NOTIFICATIONS_FILE is off" : "notifications appended to {file}";
log.info(`Receiver on ${url}/ (POST /webhook as {user}; ${kept})`, { host: settings.host, port: server.port, user: credential.user, file });
onShutdown(async () => {
  await server.close();
  await store.flushed();
});

/**
 * The ring behind `/notifications`, plus the JSONL file and a log line per
 * notification. Appends run one after another, so the file has the order of
 * the ring; a failed append is thrown to the handler (500: Alertmanager
 * retries) and the notification is not kept, so a retry does not duplicate it.
 */
function fileBackedStore(path: string | null): NotificationStore & { flushed(): Promise<void> } {
  const ring = createNotificationRing();
  let tail: Promise<void> = Promise.resolve();
  return {
    capacity: ring.capacity,
    latest: (limit) => ring.latest(limit),
    count: () => ring.count(),
    async record(notification: Notification) {
      if (path !== null) {
        const line = JSON.stringify(notification) + "\n";
        const write = tail.then(() => appendFile(path, line));
        tail = write.catch(() => {});
        try {
          await write;
        } catch (error) {
          log.error("Cannot append to {file}: {error}", { file: path, error });
          throw error;
        }
      }
      ring.record(notification);
      const { payload } = notification;
      log.info("{summary} (receiver {receiver}, {alertCount}, group {groupKey})", {
        summary: summarizeWebhook(payload),
        receiver: payload.receiver,
        alerts: payload.alerts.length,
        alertCount: counted(payload.alerts.length, "alert"),
        groupKey: payload.groupKey,
        status: payload.status,
      });
    },
    flushed: () => tail,
  };
}

// Exit 1: the machine is at fault (a folder not writable); a bad setting exits 2 where it is read.
function exitWith(error: unknown): never {
  process.stderr.write(`receiver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
