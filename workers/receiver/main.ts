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
import { basicAuth } from "../../handlers/basic_auth.ts";
import { createWebhookReceiverApp } from "../../handlers/webhook_receiver.ts";
import { summarizeWebhook } from "../../lib/receiver/alertmanager_webhook.ts";
import { createCredentialVerifier } from "../../lib/auth/credential_verifier.ts";
import { createNotificationRing, type Notification, type NotificationStore } from "../../lib/receiver/notification_ring.ts";
import { COMMON_SETTINGS, type SettingsSpec } from "../../lib/config/settings.ts";
import { startBcryptThread } from "../bcrypt_compare.ts";
import { resolveCredential } from "../credentials.ts";
import { serveOrExit } from "../serve.ts";
import { onShutdown, startWorker } from "../start.ts";

const RECEIVER_SETTINGS = {
  dataDir: { ...COMMON_SETTINGS.dataDir, help: "Folder of notifications.jsonl (unless --notifications-file says otherwise)." },
  host: COMMON_SETTINGS.host,
  receiverPort: {
    env: "RECEIVER_PORT",
    flag: "receiver-port",
    help: "Port of the webhook receiver: /webhook, /notifications.",
    defaultText: "9095",
    schema: z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1).max(65535).default(9095),
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
  logLevel: COMMON_SETTINGS.logLevel,
} satisfies SettingsSpec;

const settings = await startWorker(RECEIVER_SETTINGS, "Usage: receiver [flags]");
const log = getLogger(["etl", "receiver"]);
const file = settings.notificationsFile === "off" ? null : (settings.notificationsFile ?? join(settings.dataDir, "notifications.jsonl"));
const url = `http://${settings.host}:${settings.receiverPort}`;

const credential = await resolveCredential({
  user: settings.receiverUser,
  passwordFile: settings.receiverPasswordFile,
  devName: "receiver",
  setting: "ETL_RECEIVER_PASSWORD_FILE",
  purpose: "the webhook receiver",
  hint: (passwordFile) => `curl -u "${settings.receiverUser}:$(cat ${passwordFile})" ${url}/notifications`,
}).catch((error) => exitWith(error, 2));
// bcrypt compares run in a thread, off the event loop that takes Alertmanager's webhooks.
const bcrypt = await startBcryptThread().catch((error) => exitWith(error, 1));
const verifier = createCredentialVerifier({ user: credential.user, passwordHash: credential.passwordHash, compare: bcrypt.compare });

if (file !== null) {
  // Fail at start, not at the first alert, when the file cannot be written.
  await mkdir(dirname(file), { recursive: true }).then(() => appendFile(file, "")).catch((error) => exitWith(error, 1));
}
const store = fileBackedStore(file);
const app = createWebhookReceiverApp({ store, auth: basicAuth(verifier, { realm: "etl-receiver" }) });

const server = await serveOrExit(app.fetch, { port: settings.receiverPort, hostname: settings.host, setting: "RECEIVER_PORT" });
log.info("Receiver on http://{host}:{port}/ (POST /webhook as {user}; notifications appended to {file})", {
  host: settings.host,
  port: server.port,
  user: credential.user,
  file: file ?? "nowhere (off)",
});
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
      log.info("{summary} (receiver {receiver}, {alerts} alerts, group {groupKey})", {
        summary: summarizeWebhook(payload),
        receiver: payload.receiver,
        alerts: payload.alerts.length,
        groupKey: payload.groupKey,
        status: payload.status,
      });
    },
    flushed: () => tail,
  };
}

// 2 for a setting to fix (a bad password file), 1 for the machine (port taken, folder not writable).
function exitWith(error: unknown, code: 1 | 2): never {
  process.stderr.write(`receiver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(code);
}
