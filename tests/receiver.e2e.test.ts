// The webhook receiver as it runs: the bundle under Node, the source under
// Deno, and (when installed) a real Alertmanager delivering to it.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { exampleWebhook } from "../tools/receiver/example_webhook.ts";
import { cleanup, DENO, DENO_FLAGS, freePort, killAll, ROOT, type Spawned, spawnProcess, tempDir, waitFor } from "./harness.ts";

const BUNDLE = join(ROOT, "dist/receiver.mjs");
const ALERTMANAGER = ["prometheus-alertmanager", "alertmanager"].find((bin) => spawnSync(bin, ["--version"]).status === 0);
const requireRealTools = process.env.CI === "true";


const dirs: string[] = [];
const running: Spawned[] = [];
afterEach(async () => {
  await killAll(running);
  cleanup(dirs);
});

function run(command: string, args: string[], cwd: string, env: Record<string, string>): Spawned {
  const r = spawnProcess(command, args, { cwd, env });
  running.push(r);
  return r;
}

/** Starts the receiver in a fresh folder (so its dev credential is made there) and waits until it serves. */
async function startReceiver(runtime: "node" | "deno", env: Record<string, string> = {}) {
  const cwd = tempDir("etl-receiver-");
  dirs.push(cwd);
  const port = await freePort();
  const [command, args] = runtime === "node" ? [process.execPath, [BUNDLE]] : [DENO, [...DENO_FLAGS, join(ROOT, "workers/receiver/main.ts")]];
  const receiver = run(command, args, cwd, { RECEIVER_PORT: String(port), ETL_DATA_DIR: join(cwd, "data"), ETL_LOG_LEVEL: "info", ...env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 20_000, "receiver ready");
  return { cwd, url, receiver };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("receiver limits (bundle)", () => {
  it("keeps ETL_NOTIFICATIONS_KEPT in memory, rotates notifications.jsonl past its size, and refuses deep or oversized bodies with a 4xx", async () => {
    const { cwd, url } = await startReceiver("node", {
      ETL_NOTIFICATIONS_KEPT: "3",
      ETL_NOTIFICATIONS_FILE_MAX_BYTES: "2048",
      ETL_NOTIFICATIONS_FILES_KEPT: "1",
      ETL_MAX_NOTIFICATION_BYTES: "4096",
    });
    const authorization = basic("alertmanager", readFileSync(join(cwd, "secrets/receiver_password"), "utf8"));
    const headers = { authorization, "content-type": "application/json" };
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${url}/webhook`, { method: "POST", headers, body: JSON.stringify(exampleWebhook({ groupKey: `g${i}` })) });
      expect(res.status).toBe(200);
    }
    const list = (await (await fetch(`${url}/notifications?limit=100`, { headers: { authorization } })).json()) as {
      count: number;
      notifications: { payload: { groupKey: string } }[];
    };
    expect(list.count).toBe(10);
    expect(list.notifications.map((n) => n.payload.groupKey)).toEqual(["g9", "g8", "g7"]);
    const file = join(cwd, "data/notifications.jsonl");
    const lines = (path: string) => readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l).payload.groupKey);
    // About 1.1 KB a line: two a file, the current one and one rotated.
    expect([...lines(`${file}.1`), ...lines(file)]).toEqual(["g6", "g7", "g8", "g9"]);
    expect(() => statSync(`${file}.2`)).toThrow();

    const deep = await fetch(`${url}/webhook`, { method: "POST", headers, body: "[".repeat(1000) + "]".repeat(1000) });
    expect(deep.status).toBe(400);
    const big = await fetch(`${url}/webhook`, { method: "POST", headers, body: JSON.stringify(exampleWebhook({ receiver: "x".repeat(5000) })) });
    expect(big.status).toBe(413);
    const res = await fetch(`${url}/`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  }, 30_000);
});

describe.each(["node", "deno"] as const)("receiver (%s)", (runtime) => {
  it("records authenticated notifications, lists them newest first, appends them to notifications.jsonl, stops on Ctrl-C", async () => {
    const { cwd, url, receiver } = await startReceiver(runtime);
    const passwordFile = join(cwd, "secrets/receiver_password");
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(`${passwordFile}.bcrypt`).mode & 0o777).toBe(0o600);
    const authorization = basic("alertmanager", readFileSync(passwordFile, "utf8"));
    const headers = { authorization, "content-type": "application/json" };

    const firing = exampleWebhook();
    const resolved = exampleWebhook({
      status: "resolved",
      alerts: [{ ...firing.alerts[0]!, status: "resolved", endsAt: "2026-11-23T10:07:30.5+00:00" }],
    });

    const anonymous = await fetch(`${url}/webhook`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(firing) });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="etl-receiver", charset="UTF-8"');

    const first = await fetch(`${url}/webhook`, { method: "POST", headers, body: JSON.stringify(firing) });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, count: 1 });
    const second = await fetch(`${url}/webhook`, { method: "POST", headers, body: JSON.stringify(resolved) });
    expect(await second.json()).toEqual({ ok: true, count: 2 });

    const bad = await fetch(`${url}/webhook`, { method: "POST", headers, body: JSON.stringify({ ...firing, alerts: [{}] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^not an Alertmanager webhook payload \(version 4\): alerts\[0\]\.status: /);
    const huge = await fetch(`${url}/webhook`, { method: "POST", headers, body: JSON.stringify({ ...firing, pad: "x".repeat(1 << 20) }) });
    expect(huge.status).toBe(413);

    const list = await fetch(`${url}/notifications?limit=5`, { headers: { authorization } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { count: number; notifications: { receivedAt: string; payload: { status: string } }[] };
    expect(body.count).toBe(2);
    expect(body.notifications.map((n) => n.payload.status)).toEqual(["resolved", "firing"]);
    expect((await fetch(`${url}/notifications`)).status).toBe(401);
    expect(await (await fetch(`${url}/`)).text()).toContain("2 notifications received since start.");

    const lines = readFileSync(join(cwd, "data/notifications.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.payload)).toEqual([firing, resolved]);
    expect(lines.map((l) => l.receivedAt)).toEqual([...body.notifications].reverse().map((n) => n.receivedAt));

    expect(receiver.stderr()).toContain("[FIRING:1] ETLPipelineStalled pipeline=etl");
    expect(receiver.stderr()).toContain("[RESOLVED] ETLPipelineStalled pipeline=etl");
    receiver.child.kill("SIGINT");
    expect(await receiver.exited).toBe(0);
  }, 60_000);
});

describe("receiver settings", () => {
  it("takes a bcrypt hash as the password file, and gives exit 2 for a bad setting", async () => {
    const dir = tempDir("etl-receiver-");
    dirs.push(dir);
    const hashFile = join(dir, "hash");
    writeFileSync(hashFile, `${await bcrypt.hash("hunter2", 4)}\n`);
    const { url } = await startReceiver("node", { ETL_RECEIVER_PASSWORD_FILE: hashFile, ETL_RECEIVER_USER: "am", ETL_NOTIFICATIONS_FILE: "off" });
    const ok = await fetch(`${url}/notifications`, { headers: { authorization: basic("am", "hunter2") } });
    expect(ok.status).toBe(200);

    const bad = run(process.execPath, [BUNDLE], dir, { RECEIVER_PORT: "http" });
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('RECEIVER_PORT="http": must be a whole number 1-65535');
    const missing = run(process.execPath, [BUNDLE], dir, { RECEIVER_PORT: String(await freePort()), ETL_RECEIVER_PASSWORD_FILE: join(dir, "nope") });
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain(`ETL_RECEIVER_PASSWORD_FILE ${join(dir, "nope")}`);
    expect(missing.stderr()).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe.skipIf(!ALERTMANAGER && !requireRealTools)("a real Alertmanager", () => {
  it("delivers an alert to the receiver with basic auth from a password_file", async () => {
    const { cwd, url } = await startReceiver("node");
    const amPort = await freePort();
    const config = join(cwd, "alertmanager.yml");
    writeFileSync(config, [
      "route:",
      "  receiver: etl-demo",
      "  group_by: [alertname, pipeline]",
      "  group_wait: 0s",
      "  group_interval: 1s",
      "receivers:",
      "  - name: etl-demo",
      "    webhook_configs:",
      `      - url: ${url}/webhook`,
      "        send_resolved: true",
      "        http_config:",
      "          basic_auth:",
      "            username: alertmanager",
      `            password_file: ${join(cwd, "secrets/receiver_password")}`,
      "",
    ].join("\n"));
    run(ALERTMANAGER!, [
      `--config.file=${config}`,
      `--storage.path=${join(cwd, "am-data")}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      "--cluster.listen-address=",
    ], cwd, {});
    const amUrl = `http://127.0.0.1:${amPort}`;
    await waitFor(async () => ((await fetch(`${amUrl}/-/ready`)).status === 200 ? true : undefined), 20_000, "alertmanager ready");

    const startsAt = new Date().toISOString();
    const post = await fetch(`${amUrl}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{
        labels: { alertname: "ETLPipelineStalled", pipeline: "etl", severity: "critical" },
        annotations: { summary: "Pipeline etl sent no event for 60 s" },
        startsAt,
        generatorURL: "http://127.0.0.1:9090/graph",
      }]),
    });
    expect(post.status).toBe(200);

    const authorization = basic("alertmanager", readFileSync(join(cwd, "secrets/receiver_password"), "utf8"));
    const got = await waitFor(async () => {
      const body = (await (await fetch(`${url}/notifications`, { headers: { authorization } })).json()) as {
        notifications: { payload: Record<string, unknown> & { alerts: { labels: Record<string, string>; fingerprint: string }[] } }[];
      };
      return body.notifications[0];
    }, 20_000, "a notification from Alertmanager");
    expect(got.payload).toMatchObject({
      version: "4",
      status: "firing",
      receiver: "etl-demo",
      groupLabels: { alertname: "ETLPipelineStalled", pipeline: "etl" },
      externalURL: expect.any(String),
      truncatedAlerts: 0,
    });
    expect(got.payload.alerts[0]!.labels).toEqual({ alertname: "ETLPipelineStalled", pipeline: "etl", severity: "critical" });
    expect(got.payload.alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  }, 60_000);
});
