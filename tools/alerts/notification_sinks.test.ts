import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, freePort, tempDir } from "../../tests/harness.ts";
import { makeTestTls, startSlackSink, startSmtpSink } from "./notification_sinks.ts";

const dirs: string[] = [];
afterAll(() => cleanup(dirs));

/** Speaks SMTP in the clear: the greeting, then each command's reply code. */
async function plainSmtp(port: number, commands: string[]): Promise<string[]> {
  const socket = connect(port, "127.0.0.1");
  let buffer = "";
  const replies: string[] = [];
  const next = () =>
    new Promise<string>((done) => {
      const check = () => {
        // A reply ends with a line "NNN text" (no dash after the code).
        const m = /(^|\n)(\d{3}) [^\n]*\r\n$/.exec(buffer);
        if (m) {
          buffer = "";
          socket.off("data", onData);
          done(m[2]!);
        }
      };
      const onData = (d: Buffer) => {
        buffer += d.toString();
        check();
      };
      socket.on("data", onData);
      check();
    });
  replies.push(await next());
  for (const c of commands) {
    socket.write(`${c}\r\n`);
    replies.push(await next());
  }
  socket.destroy();
  return replies;
}

describe("the notification sinks", () => {
  it("the SMTP sink offers STARTTLS and refuses AUTH and mail before it", async () => {
    const dir = tempDir("etl-sinks-");
    dirs.push(dir);
    const smtp = await startSmtpSink({ tls: makeTestTls(dir), user: "u", password: "p", port: await freePort() });
    try {
      const [greeting, ehlo, auth, mail] = await plainSmtp(smtp.port, ["EHLO test", `AUTH PLAIN ${btoa("\0u\0p")}`, "MAIL FROM:<a@example.org>"]);
      expect([greeting, ehlo]).toEqual(["220", "250"]);
      expect(auth).toMatch(/^5\d\d$/);
      expect(mail).toMatch(/^5\d\d$/);
      expect(smtp.mails).toEqual([]);
    } finally {
      await smtp.close();
    }
  });

  it("the Slack sink keeps posts to its path and answers ok like Slack", async () => {
    const slack = await startSlackSink(await freePort());
    try {
      const res = await fetch(slack.url, { method: "POST", body: JSON.stringify({ attachments: [{ title: "t", text: "x", color: "good" }] }) });
      expect([res.status, await res.text()]).toEqual([200, "ok"]);
      await fetch(new URL("/webhook", slack.url), { method: "POST", body: "{}" });
      expect(slack.messages.map((m) => m.body.attachments[0]!.color)).toEqual(["good"]);
      expect(slack.others.map((o) => o.path)).toEqual(["/webhook"]);
    } finally {
      await slack.close();
    }
  });
});
