import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { channelsFromEnv, NOTIFICATION_HELP } from "./notification_env.ts";

const dir = mkdtempSync(join(tmpdir(), "etl-notify-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const EMAIL = { ETL_ALERT_EMAIL_TO: "a@example.org", ETL_SMTP_SMARTHOST: "127.0.0.1:25", ETL_SMTP_FROM: "am@example.org", ETL_SMTP_USER: "am" };

describe("notification settings of the native stack", () => {
  it("resolve relative files against the working folder and check them", () => {
    writeFileSync(join(dir, "pw"), "s3cret");
    writeFileSync(join(dir, "slack"), "https://hooks.example.org/services/T/B/x\n");
    const r = channelsFromEnv({ ...EMAIL, ETL_SMTP_PASSWORD_FILE: "pw", ETL_ALERT_SLACK_WEBHOOK_URL_FILE: "slack" }, dir);
    expect(r).toMatchObject({ ok: true, channels: { email: { auth: { passwordFile: join(dir, "pw") } }, slack: { webhookUrlFile: join(dir, "slack") } } });
  });

  it("refuse a password file with a final newline, a missing file, and a file with no URL", () => {
    writeFileSync(join(dir, "pw-newline"), "s3cret\n");
    writeFileSync(join(dir, "not-a-url"), "hello");
    const r = channelsFromEnv({ ...EMAIL, ETL_SMTP_PASSWORD_FILE: "pw-newline", ETL_SMTP_CA_FILE: "missing.crt", ETL_ALERT_SLACK_WEBHOOK_URL_FILE: "not-a-url" }, dir);
    expect(r.ok).toBe(false);
    const message = r.ok ? "" : r.message;
    expect(message).toContain(`ETL_SMTP_PASSWORD_FILE=${join(dir, "pw-newline")} ends with a newline`);
    expect(message).toContain(`ETL_SMTP_CA_FILE=${join(dir, "missing.crt")}: ENOENT`);
    expect(message).toContain(`ETL_ALERT_SLACK_WEBHOOK_URL_FILE=${join(dir, "not-a-url")} holds no http(s) URL`);
  });

  it("are off with an empty environment, and listed in the help", () => {
    expect(channelsFromEnv({}, dir)).toEqual({ ok: true, channels: {} });
    for (const v of ["ETL_ALERT_EMAIL_TO", "ETL_SMTP_PASSWORD_FILE", "ETL_ALERT_SLACK_WEBHOOK_URL_FILE"]) expect(NOTIFICATION_HELP).toContain(v);
  });
});
