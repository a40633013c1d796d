/**
 * Where the tests' alert notifications land: a real SMTP server on loopback
 * (the `smtp-server` package, STARTTLS and AUTH required, messages read
 * back with `mailparser`) and a Slack-compatible incoming-webhook endpoint
 * (JSON POSTs kept as they came). Each message is stamped on arrival, so a
 * test can measure the delay from provoking an alert.
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { type AddressObject, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { NotificationChannels } from "../../lib/alerts/notification_channels.ts";

/** A CA and a server certificate for 127.0.0.1 signed by it, in PEM files. */
export interface TestTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Makes a throwaway CA and a 127.0.0.1/localhost server certificate with openssl (test only). */
export function makeTestTls(dir: string, name = "test"): TestTls {
  const f = (s: string) => join(dir, `${name}-${s}`);
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${name} test CA`, "-keyout", f("ca.key"), "-out", f("ca.crt")]);
  run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr")]);
  writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  run(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", f("ext.cnf"), "-out", f("server.crt")]);
  return { caFile: f("ca.crt"), certFile: f("server.crt"), keyFile: f("server.key") };
}

/** One e-mail as it arrived. */
export interface ReceivedMail {
  receivedAt: number;
  /** STARTTLS was in effect when the message was sent. */
  secure: boolean;
  user: string | undefined;
  envelopeTo: string[];
  subject: string;
  to: string[];
  from: string;
  text: string;
}

/** A running SMTP server. */
export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** AUTH attempts refused (wrong user or password). */
  refusedLogins: number;
  close(): Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address ?? ""));

/**
 * An SMTP server on 127.0.0.1 that offers STARTTLS with `tls`, refuses AUTH
 * before it, and accepts mail only from `user`/`password`.
 */
export async function startSmtpSink(options: { tls: TestTls; user: string; password: string; port: number }): Promise<SmtpSink> {
  const sink: SmtpSink = { port: options.port, mails: [], refusedLogins: 0, close: async () => {} };
  const server = new SMTPServer({
    secure: false,
    key: readFileSync(options.tls.keyFile),
    cert: readFileSync(options.tls.certFile),
    minVersion: "TLSv1.2",
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: false,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, done) {
      if (auth.username === options.user && auth.password === options.password) return done(null, { user: auth.username });
      sink.refusedLogins++;
      return done(new Error("invalid credentials"));
    },
    onData(stream, session, done) {
      simpleParser(stream)
        .then((mail) => {
          sink.mails.push({
            receivedAt: Date.now(),
            secure: session.secure,
            user: session.user as string | undefined,
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            subject: mail.subject ?? "",
            to: addresses(mail.to),
            from: addresses(mail.from)[0] ?? "",
            text: mail.text ?? "",
          });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port, "127.0.0.1", () => ok());
  });
  sink.close = () => new Promise((done) => server.close(() => done()));
  return sink;
}

/** One Slack incoming-webhook POST. */
export interface SlackMessage {
  receivedAt: number;
  path: string;
  body: {
    channel?: string;
    attachments: { title: string; text: string; color: string; fallback?: string }[];
  };
}

/** A running Slack-compatible endpoint. */
export interface SlackSink {
  /** The incoming-webhook URL to put in the `api_url_file`. */
  url: string;
  messages: SlackMessage[];
  /** Requests to any other path (answered 200: a test can point Alertmanager's webhook here too). */
  others: Array<{ receivedAt: number; path: string; body: unknown }>;
  close(): Promise<void>;
}

/** A Slack-compatible incoming webhook on 127.0.0.1: answers `ok` like Slack, keeps each JSON body. */
export async function startSlackSink(port: number): Promise<SlackSink> {
  const messages: SlackMessage[] = [];
  const others: Array<{ receivedAt: number; path: string; body: unknown }> = [];
  const path = "/services/T000/B000/test-webhook";
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== path) {
        others.push({ receivedAt: Date.now(), path: req.url ?? "", body: body === "" ? {} : JSON.parse(body) });
        res.writeHead(200).end("ok");
        return;
      }
      messages.push({ receivedAt: Date.now(), path: req.url, body: JSON.parse(body) });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", () => ok()));
  return { url: `http://127.0.0.1:${port}${path}`, messages, others, close: () => new Promise((done) => server.close(() => done())) };
}

/** Both sinks, and the channels that point Alertmanager at them (secrets in files under `dir`). */
export interface NotificationSinks {
  smtp: SmtpSink;
  slack: SlackSink;
  tls: TestTls;
  channels: NotificationChannels;
  close(): Promise<void>;
}

/**
 * Starts the SMTP sink (STARTTLS and AUTH as user `alertmanager`) and the
 * Slack sink on the given ports, and writes the password and webhook-URL
 * files the returned channels name.
 */
export async function startNotificationSinks(dir: string, ports: { smtp: number; slack: number }): Promise<NotificationSinks> {
  const password = "smtp-test-password";
  const tls = makeTestTls(dir, "smtp");
  const smtp = await startSmtpSink({ tls, user: "alertmanager", password, port: ports.smtp });
  const slack = await startSlackSink(ports.slack);
  // No final newline: Alertmanager 0.25 sends auth_password_file verbatim.
  writeFileSync(join(dir, "smtp_password"), password);
  writeFileSync(join(dir, "slack_webhook_url"), slack.url);
  const channels: NotificationChannels = {
    email: {
      to: ["etl-oncall@example.org"],
      smarthost: `127.0.0.1:${smtp.port}`,
      from: "alertmanager@example.org",
      auth: { username: "alertmanager", passwordFile: join(dir, "smtp_password") },
      requireTls: true,
      caFile: tls.caFile,
    },
    slack: { webhookUrlFile: join(dir, "slack_webhook_url") },
  };
  return { smtp, slack, tls, channels, close: async () => void (await Promise.all([smtp.close(), slack.close()])) };
}
