/**
 * The alert webhook receiver: Alertmanager's `webhook_configs` POST here; each
 * notification is logged, kept in memory (the last 200, at most 4 Mi
 * characters of them, on `/notifications`) and appended to
 * `<data-dir>/notifications.jsonl` (rotated at 64 MiB, 3 old files kept).
 *
 *     npm run receiver                         # http://127.0.0.1:9095/
 *     curl -u "alertmanager:$(cat secrets/receiver_password)" http://127.0.0.1:9095/notifications
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import * as z from "zod";
import { createWebhookReceiverApp, MAX_WEBHOOK_BYTES } from "../../handlers/webhook_receiver.ts";
import { summarizeWebhook } from "../../lib/receiver/alertmanager_webhook.ts";
import {
  createNotificationRing,
  DEFAULT_RING_CAPACITY,
  DEFAULT_RING_CHARS,
  type Notification,
  type NotificationStore,
} from "../../lib/receiver/notification_ring.ts";
import { boundedNumber, COMMON_SETTINGS, portSetting, type SettingsSpec } from "../../lib/config/settings.ts";
import { TLS_SETTINGS } from "../../lib/config/tls_settings.ts";
import { bcryptCompareOrExit, credentialAuthOrExit } from "../credentials.ts";
import { counted } from "../logging.ts";
import { serveOrExit } from "../serve.ts";
import { onShutdown, settingAsGiven, startWorker } from "../start.ts";
import { readTlsOrExit } from "../tls.ts";
import { type NotificationLog, openNotificationLog } from "./notification_log.ts";


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
  maxNotificationBytes: {
    env: "ETL_MAX_NOTIFICATION_BYTES",
    flag: "max-notification-bytes",
    help: "Largest body /webhook takes (413 beyond); a real notification is a few KiB.",
    defaultText: String(MAX_WEBHOOK_BYTES),
    schema: boundedNumber(1024, 64 << 20, { integer: true }).default(MAX_WEBHOOK_BYTES),
  },
  notificationsKept: {
    env: "ETL_NOTIFICATIONS_KEPT",
    flag: "notifications-kept",
    help: "Notifications kept in memory for /notifications, at most.",
    defaultText: String(DEFAULT_RING_CAPACITY),
    schema: boundedNumber(1, 100_000, { integer: true }).default(DEFAULT_RING_CAPACITY),
  },
  notificationsKeptChars: {
    env: "ETL_NOTIFICATIONS_KEPT_CHARS",
    flag: "notifications-kept-chars",
    help: "Characters of JSON kept in memory for /notifications, at most (1 or 2 bytes each); the oldest go first.",
    defaultText: String(DEFAULT_RING_CHARS),
    schema: boundedNumber(1024, 1 << 30, { integer: true }).default(DEFAULT_RING_CHARS),
  },
  notificationsFileMaxBytes: {
    env: "ETL_NOTIFICATIONS_FILE_MAX_BYTES",
    flag: "notifications-file-max-bytes",
    help: "Size past which the notifications file is rotated to <file>.1, <file>.2, ...",
    defaultText: String(64 << 20),
    schema: boundedNumber(1024, 2 ** 40, { integer: true }).default(64 << 20),
  },
  notificationsFilesKept: {
    env: "ETL_NOTIFICATIONS_FILES_KEPT",
    flag: "notifications-files-kept",
    help: "Rotated notifications files kept; older ones are deleted (0 keeps only the current file).",
    defaultText: "3",
    schema: boundedNumber(0, 1000, { integer: true }).default(3),
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

// Fail at start, not at the first alert, when the file cannot be written.
const notificationLog = file === null ? null : await mkdir(dirname(file), { recursive: true })
  .then(() => openNotificationLog({ path: file, maxBytes: settings.notificationsFileMaxBytes, keep: settings.notificationsFilesKept }))
  .catch(exitWith);
const store = fileBackedStore(notificationLog, createNotificationRing(settings.notificationsKept, settings.notificationsKeptChars));
const app = createWebhookReceiverApp({ store, auth, maxBodyBytes: settings.maxNotificationBytes });

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
function fileBackedStore(notificationLog: NotificationLog | null, ring: NotificationStore): NotificationStore & { flushed(): Promise<void> } {
  return {
    capacity: ring.capacity,
    maxChars: ring.maxChars,
    latest: (limit) => ring.latest(limit),
    count: () => ring.count(),
    async record(notification: Notification) {
      if (notificationLog !== null) {
        try {
          await notificationLog.append(JSON.stringify(notification) + "\n");
        } catch (error) {
          log.error("Cannot append to {file}: {error}", { file, error });
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
    flushed: () => notificationLog?.flushed() ?? Promise.resolve(),
  };
}

// Exit 1: the machine is at fault (a folder not writable); a bad setting exits 2 where it is read.
function exitWith(error: unknown): never {
  process.stderr.write(`receiver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
