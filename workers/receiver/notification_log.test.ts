import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openNotificationLog } from "./notification_log.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "notification-log-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number) => `{"n":${i},"pad":"${"x".repeat(80)}"}\n`; // 94 bytes for i < 10

describe("openNotificationLog", () => {
  it("rotates past maxBytes and keeps `keep` old files, so the disk it takes is bounded", async () => {
    const path = join(dir, "notifications.jsonl");
    const log = await openNotificationLog({ path, maxBytes: 200, keep: 2 });
    for (let i = 0; i < 9; i++) await log.append(line(i));
    // Two lines a file: 0-1 and 2-3 were deleted, 4-5 and 6-7 are kept, 8 is in the current file.
    expect(readdirSync(dir).sort()).toEqual(["notifications.jsonl", "notifications.jsonl.1", "notifications.jsonl.2"]);
    expect(readFileSync(path, "utf8")).toBe(line(8));
    expect(readFileSync(`${path}.1`, "utf8")).toBe(line(6) + line(7));
    expect(readFileSync(`${path}.2`, "utf8")).toBe(line(4) + line(5));
  });

  it("continues the size of an existing file, and keeps none with keep 0", async () => {
    const path = join(dir, "notifications.jsonl");
    writeFileSync(path, line(0));
    const log = await openNotificationLog({ path, maxBytes: 100, keep: 0 });
    await log.append(line(1));
    expect(readdirSync(dir)).toEqual(["notifications.jsonl"]);
    expect(readFileSync(path, "utf8")).toBe(line(1));
  });

  it("writes a line larger than maxBytes on its own, and appends in order when called at once", async () => {
    const path = join(dir, "notifications.jsonl");
    const log = await openNotificationLog({ path, maxBytes: 10, keep: 5 });
    await Promise.all([0, 1, 2].map((i) => log.append(line(i))));
    await log.flushed();
    expect([readFileSync(`${path}.2`, "utf8"), readFileSync(`${path}.1`, "utf8"), readFileSync(path, "utf8")]).toEqual([line(0), line(1), line(2)]);
  });
});
