// The commands run in-process against stand-ins: `docker` and
// `docker-compose` are shell scripts on a PATH of their own that log their
// arguments and answer as the real ones do, and Prometheus and the
// simulator are HTTP servers of the test. What is checked: the calls made,
// in order, and the exact output.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, tempDir } from "../../tests/harness.ts";
import { ensureCertificates } from "../secrets/ca.ts";
import { ensureStackSecrets } from "../secrets/store.ts";
import { runStackCli } from "./cli_commands.ts";

const DOCKER = `
echo "docker $*" >> "$LOG"
case "$1" in
  info) echo 27.3.1 ;;
  compose) echo "docker: unknown command: docker compose" >&2; exit 1 ;;
  inspect) printf '%s' "$INSPECT_JSON" ;;
  image) [ -n "$NO_IMAGE" ] && exit 1; echo sha256:1234 ;;
  volume) [ "$5" = etl-monitoring-prometheus-data ] || exit 1; echo "$5" ;;
  run)
    case "$*" in
      *-czf*) printf 'archive of %s' "$8" ;;
      *-xzpf*) while read -r line || [ -n "$line" ]; do echo "unpacked: $line" >> "$LOG"; done ;;
    esac ;;
esac
`;

const COMPOSE = `
echo "docker-compose $*" >> "$LOG"
[ "$1" = version ] && { echo "docker-compose version 1.29.2"; exit 0; }
# -p PROJECT, then one -f FILE or more (the TLS override), then the command.
shift 2; while [ "$1" = -f ]; do shift 2; done
case "$1" in
  config) printf '%s\\n' "services:" "  etl-secrets-init: {}" "  prometheus:" "    depends_on:" \\
    "      etl-secrets-init: {condition: service_completed_successfully}" \\
    "volumes:" "  prometheus-data: {name: etl-monitoring-prometheus-data}" "  grafana-data: {name: etl-monitoring-grafana-data}" ;;
  ps) echo 9b8c7d6e5f4a; echo 4f2a9c1e7b3d ;;
  build) echo "build env: ETL_SECRETS_DIR=$ETL_SECRETS_DIR ETL_NPM_REGISTRY=$ETL_NPM_REGISTRY ETL_PROMETHEUS_PORT=$ETL_PROMETHEUS_PORT" >> "$LOG" ;;
  logs) echo "prometheus_1  | ready"; exit "\${LOGS_EXIT:-0}" ;;
esac
`;

const NPM = `echo "https://registry.example/"`;

function inspectJson(prometheus: { status?: string; health?: string; port?: number } = {}): string {
  const { status = "running", health = "healthy", port } = prometheus;
  const labels = (service: string) => ({ "com.docker.compose.project": "etl-monitoring", "com.docker.compose.service": service, "com.docker.compose.oneoff": "False" });
  return JSON.stringify([
    { Id: "9b8c7d6e5f4a", State: { Status: "exited", ExitCode: 0 }, Config: { Labels: labels("etl-secrets-init") }, NetworkSettings: { Ports: {} } },
    {
      Id: "4f2a9c1e7b3d",
      State: { Status: status, ExitCode: 0, Health: { Status: health, Log: [] } },
      Config: { Labels: labels("prometheus") },
      NetworkSettings: { Ports: port === undefined ? {} : { "9090/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] } },
    },
  ]);
}

let root = "";
let bin = "";
let secrets = "";
let log = "";

beforeAll(async () => {
  root = tempDir("stack-cli-");
  bin = join(root, "bin");
  secrets = join(root, "secrets");
  log = join(root, "calls.log");
  await mkdir(join(root, "deploy/compose"), { recursive: true });
  await writeFile(join(root, "deploy/compose/docker-compose.yml"), "# the commands ask docker-compose, a stand-in here\n");
  await mkdir(bin);
  for (const [name, body] of Object.entries({ docker: DOCKER, "docker-compose": COMPOSE, npm: NPM })) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}`);
    await chmod(join(bin, name), 0o755);
  }
  await ensureStackSecrets(secrets, { cost: 4 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  await writeFile(log, "");
  const out: string[] = [];
  const err: string[] = [];
  const code = await runStackCli(argv, { PATH: bin, LOG: log, ETL_SECRETS_DIR: secrets, ...env }, {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    tty: false,
  }, { root, cwd: root, now: () => new Date("2026-11-24T01:10:00Z") });
  const calls = (await readFile(log, "utf8")).split("\n").filter((l) => l !== "")
    .map((l) => l.replaceAll(root, "<root>").replace(/-p etl-monitoring -f <root>\/deploy\/compose\/docker-compose.yml /, "… "));
  return { code, out: out.join(""), err: err.join(""), calls };
}

/** An HTTP server answering `handle`, on 127.0.0.1. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createHttpServer(handle);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, port: (server.address() as { port: number }).port };
}

const basic = async (user: string, file: string) => `Basic ${Buffer.from(`${user}:${(await readFile(join(secrets, file), "utf8")).trim()}`).toString("base64")}`;

describe("help and mistakes", () => {
  it("prints the help on stdout, mistakes on stderr with exit 2", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: npm run stack -- COMMAND \[flags\]/);
    const wrong = await run(["down", "--follow"]);
    expect(wrong).toMatchObject({ code: 2, out: "" });
    expect(wrong.err).toBe("stack down: Unknown option '--follow'\nUsage: npm run stack -- down [flags]; npm run stack -- down --help lists them.\n");
    expect(wrong.calls).toEqual([]);
  });

  it("refuses every command's unknown flag, and answers every command's --help, before calling anything", async () => {
    for (const command of ["up", "down", "restart-etl", "status", "logs", "scenario", "backup", "restore"]) {
      const help = await run([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.out).toMatch(new RegExp(`^Usage: npm run stack -- ${command} `));
      const wrong = await run([command, "--bogus"]);
      expect(wrong).toMatchObject({ code: 2, out: "", calls: [] });
      expect(wrong.err).toBe(`stack ${command}: Unknown option '--bogus'\nUsage: npm run stack -- ${command === "restore" ? "restore DIR" : command === "scenario" ? "scenario NAME" : command === "up" ? "up [SERVICE...]" : command === "logs" ? "logs [SERVICE]" : command === "backup" ? "backup [DIR]" : command} [flags]; npm run stack -- ${command} --help lists them.\n`);
    }
  });

  it("checks a Compose command given by hand before Docker, naming the setting, exit 2", async () => {
    const byEnv = await run(["up"], { ETL_COMPOSE: "nope" });
    expect(byEnv).toMatchObject({ code: 2, out: "", err: 'stack up: ETL_COMPOSE is "nope", but nope is not found\n', calls: [] });
    const byFlag = await run(["status", "--compose", "nope"]);
    expect(byFlag).toMatchObject({ code: 2, out: "", err: 'stack status: --compose is "nope", but nope is not found\n', calls: [] });
  });

  it("says docker is missing, in one line, exit 1", async () => {
    const result = await run(["status"], { PATH: join(root, "deploy") });
    expect(result).toMatchObject({ code: 1, out: "" });
    expect(result.err).toBe("stack status: docker not found: install Docker (https://docs.docker.com/engine/install/) and make sure `docker` is on the PATH\n");
  });
});

describe("TLS mode (--tls)", () => {
  it("asks Prometheus and the simulator over HTTPS trusting the local CA only, with the override on every Compose call", async () => {
    await ensureCertificates(secrets);
    const authorization = await basic("readonly", "prometheus_readonly_password");
    const control = await basic("control", "control_password");
    const server = createHttpsServer(
      { cert: await readFile(join(secrets, "tls/prometheus.crt")), key: await readFile(join(secrets, "tls/prometheus.key")) },
      (req, res) => {
        res.setHeader("content-type", "application/json");
        if (req.url === "/control/scenario") {
          if (req.headers.authorization !== control || req.method !== "PUT") return void res.writeHead(401).end();
          return void res.end(JSON.stringify({ scenario: "stall", since: "2026-11-24T01:10:00.000Z" }));
        }
        if (req.headers.authorization !== authorization) return void res.writeHead(401).end();
        res.end(JSON.stringify({ status: "success", data: req.url!.startsWith("/api/v1/targets") ? { activeTargets: [] } : { alerts: [] } }));
      },
    );
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as { port: number }).port;
    try {
      const result = await run(["status", "--tls"], { INSPECT_JSON: inspectJson({ port }) });
      expect(result.err).toBe("");
      expect(result.out).toContain(`Prometheus targets (https://127.0.0.1:${port}):\n`);
      expect(result.out).toContain("Alerts firing: none\n");
      expect(result.calls).toContain("docker-compose … -f <root>/deploy/compose/docker-compose.tls.yml config");
      expect(await run(["scenario", "stall"], { ETL_TLS: "1", ETL_SIMULATOR_PORT: String(port) })).toMatchObject({
        code: 0,
        out: "scenario stall since 2026-11-24T01:10:00.000Z\n",
      });
      // Plain mode asks over HTTP, which this server does not answer.
      expect((await run(["scenario", "stall"], { ETL_SIMULATOR_PORT: String(port) })).code).toBe(1);
      // Another CA is refused.
      const other = tempDir("stack-cli-other-ca-");
      await ensureStackSecrets(other, { cost: 4 });
      await ensureCertificates(other);
      const refused = await run(["status", "--tls", "--secrets-dir", other], { INSPECT_JSON: inspectJson({ port }) });
      expect(refused.out).toContain(`cannot reach https://127.0.0.1:${port} (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
      expect(refused.code).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe("status", () => {
  it("reports services, targets and alerts, asking Prometheus as readonly, and exits 0 when all is well", async () => {
    const authorization = await basic("readonly", "prometheus_readonly_password");
    const asked: string[] = [];
    const { server, port } = await serve((req, res) => {
      asked.push(req.url!);
      if (req.headers.authorization !== authorization) return void res.writeHead(401).end("Unauthorized");
      res.setHeader("content-type", "application/json");
      if (req.url!.startsWith("/api/v1/targets")) {
        res.end(JSON.stringify({ status: "success", data: { activeTargets: [{ labels: { job: "prometheus", instance: "localhost:9090" }, health: "up", lastError: "" }] } }));
      } else {
        res.end(JSON.stringify({ status: "success", data: { alerts: [] } }));
      }
    });
    try {
      const result = await run(["status"], { INSPECT_JSON: inspectJson({ port }) });
      expect(result.err).toBe("");
      expect(result.out).toBe([
        "Services (project etl-monitoring):",
        "  etl-secrets-init  exited 0 (done)   ok",
        "  prometheus        running, healthy  ok",
        `Prometheus targets (http://127.0.0.1:${port}):`,
        "  prometheus  localhost:9090  up",
        "Alerts firing: none",
        "All healthy.",
        "",
      ].join("\n"));
      expect(result.code).toBe(0);
      expect(asked).toEqual(["/api/v1/targets?state=active", "/api/v1/alerts"]);
      expect(result.calls).toEqual([
        "docker info --format {{.ServerVersion}}",
        "docker compose version",
        "docker-compose version",
        "docker-compose … config",
        "docker-compose … ps -a -q",
        "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
      ]);
    } finally {
      server.close();
    }
  });

  it("exits 1 and says why when a service is unhealthy and Prometheus refuses the password", async () => {
    const { server, port } = await serve((_req, res) => void res.writeHead(401).end());
    try {
      const result = await run(["status"], { INSPECT_JSON: inspectJson({ port, health: "unhealthy" }) });
      expect(result.out.split("\n").slice(2)).toEqual([
        "  prometheus        running, unhealthy  NOT OK",
        `Prometheus targets (http://127.0.0.1:${port}):`,
        `  http://127.0.0.1:${port}/api/v1/targets?state=active refused the readonly password (HTTP 401)`,
        `Alerts: http://127.0.0.1:${port}/api/v1/alerts refused the readonly password (HTTP 401)`,
        "Not healthy: prometheus running, unhealthy; Prometheus's targets unknown; alerts unknown.",
        "",
      ]);
      expect(result.code).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe("up", () => {
  it("makes the secrets, checks the ports, builds, starts, waits and says where everything is", async () => {
    const port = await freePort();
    const fresh = join(root, "fresh-secrets");
    const result = await run(["up", "prometheus"], { ETL_SECRETS_DIR: fresh, ETL_PROMETHEUS_PORT: String(port), INSPECT_JSON: inspectJson({ port }) });
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out.replace(/^ +\d+ s {2}/gm, "")).toBe([
      "Secrets created in fresh-secrets: metrics, control, receiver, prometheus_admin, prometheus_readonly, grafana_admin (the files hold the passwords; nothing is printed)",
      "Building the images (docker-compose build)…",
      "Starting etl-secrets-init, prometheus…",
      "Waiting until 2 services are ready (timeout 300 s)…",
      "etl-secrets-init: exited 0 (done)",
      "prometheus: running, healthy",
      "",
      "The stack is up (project etl-monitoring):",
      `  Prometheus  http://127.0.0.1:${port}/`,
      "",
      "Credentials (user, the file holding the password, what it opens; passwords are never printed):",
      "  admin     fresh-secrets/prometheus_admin_password     Prometheus's web UI and HTTP API",
      "  readonly  fresh-secrets/prometheus_readonly_password  Prometheus's HTTP API (queries)",
      "Reference: fresh-secrets/CREDENTIALS.md",
      "",
    ].join("\n"));
    expect(result.calls).toEqual([
      "docker info --format {{.ServerVersion}}",
      "docker compose version",
      "docker-compose version",
      "docker-compose … config",
      "docker-compose … ps -a -q",
      "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
      "docker-compose … build etl-secrets-init prometheus",
      `build env: ETL_SECRETS_DIR=<root>/fresh-secrets ETL_NPM_REGISTRY=https://registry.example/ ETL_PROMETHEUS_PORT=${port}`,
      "docker-compose … up -d prometheus",
      "docker-compose … ps -a -q",
      "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
      "docker-compose … ps -a -q",
      "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
    ]);
  });

  it("refuses a port another program holds, naming the variable, and accepts one its own container holds", async () => {
    const holder = createServer();
    await new Promise<void>((done) => holder.listen(0, "127.0.0.1", done));
    const port = (holder.address() as { port: number }).port;
    try {
      const taken = await run(["up"], { ETL_PROMETHEUS_PORT: String(port), INSPECT_JSON: inspectJson({ status: "exited" }) });
      expect(taken.err).toBe(
        `stack up: port ${port} on 127.0.0.1 (Prometheus) is taken by another program: set ETL_PROMETHEUS_PORT (or --prometheus-port) to a free port\n`,
      );
      expect(taken.code).toBe(1);
      expect(taken.calls.some((c) => c.includes(" build"))).toBe(false);
      const own = await run(["up"], { ETL_PROMETHEUS_PORT: String(port), INSPECT_JSON: inspectJson({ port }) });
      expect(own.err).toBe("");
      expect(own.code).toBe(0);
    } finally {
      holder.close();
    }
  });

  it("names a service the Compose file lacks, exit 2", async () => {
    const result = await run(["up", "grafana"], { INSPECT_JSON: "[]" });
    expect(result.err).toBe("stack up: no service grafana in the Compose file; its services: etl-secrets-init, prometheus\n");
    expect(result.code).toBe(2);
  });
});

describe("down, logs and restart-etl", () => {
  it("keeps the volumes unless --delete-data", async () => {
    expect((await run(["down"])).calls.at(-1)).toBe("docker-compose … down");
    expect((await run(["down", "--delete-data"])).calls.at(-1)).toBe("docker-compose … down --volumes");
  });

  it("passes logs through and ends with Compose's exit code", async () => {
    const result = await run(["logs", "prometheus", "--tail", "5", "--follow"], { LOGS_EXIT: "3" });
    expect(result.calls.at(-1)).toBe("docker-compose … logs --tail 5 --follow prometheus");
    expect(result.code).toBe(3);
  });

  it("refuses to restart services never created", async () => {
    const result = await run(["restart-etl"], { INSPECT_JSON: inspectJson() });
    expect(result.err).toBe("stack restart-etl: etl-simulator and etl-metrics not created: start the stack first (npm run stack -- up)\n");
    expect(result.code).toBe(1);
  });
});

describe("scenario", () => {
  it("switches the simulator's scenario with the control credential", async () => {
    const authorization = await basic("control", "control_password");
    const { server, port } = await serve((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d)).on("end", () => {
        if (req.headers.authorization !== authorization) return void res.writeHead(401).end();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ scenario: req.method === "PUT" ? JSON.parse(body).scenario : "normal", since: "2026-11-24T01:10:00.000Z" }));
      });
    });
    try {
      expect(await run(["scenario", "stall"], { ETL_SIMULATOR_PORT: String(port) })).toMatchObject({
        code: 0,
        out: "scenario stall since 2026-11-24T01:10:00.000Z\n",
        err: "",
      });
      expect(await run(["scenario", "--status"], { ETL_SIMULATOR_PORT: String(port) })).toMatchObject({
        code: 0,
        out: "scenario normal since 2026-11-24T01:10:00.000Z\n",
      });
    } finally {
      server.close();
    }
  });

  it("refuses an unknown scenario with exit 2 without asking the simulator", async () => {
    let asked = 0;
    const { server, port } = await serve((_req, res) => {
      asked++;
      res.end("{}");
    });
    try {
      const result = await run(["scenario", "bogus"], { ETL_SIMULATOR_PORT: String(port) });
      expect(result).toMatchObject({ code: 2, out: "" });
      expect(result.err).toBe(
        'stack scenario: unknown scenario "bogus": one of normal, stall, crash, slow, error-burst, low-throughput, late, hung, empty, volume-drop\n' +
          "Usage: npm run stack -- scenario NAME [flags]; npm run stack -- scenario --help lists them.\n",
      );
      expect(asked).toBe(0);
    } finally {
      server.close();
    }
  });

  it("says how to start the stack when the simulator does not answer", async () => {
    const port = await freePort();
    const result = await run(["scenario", "stall"], { ETL_SIMULATOR_PORT: String(port) });
    expect(result.err).toBe(`stack scenario: cannot reach http://127.0.0.1:${port} (ECONNREFUSED), is it running? (npm run stack -- up)\n`);
    expect(result.code).toBe(1);
  });
});

describe("backup and restore", () => {
  it("stops the data services, archives each volume there is, writes the manifest, starts them again", async () => {
    const result = await run(["backup"], { INSPECT_JSON: inspectJson() });
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const dir = join(root, "backups/20261124T011000Z");
    expect(result.out.replace(/^ +\d+ s {2}/gm, "")).toBe([
      "etl-monitoring-grafana-data: no such volume, skipped",
      "etl-monitoring-alertmanager-data: no such volume, skipped",
      "Stopping prometheus for a consistent copy…",
      "  etl-monitoring-prometheus-data -> backups/20261124T011000Z/etl-monitoring-prometheus-data.tar.gz (52 B)",
      "Starting prometheus again…",
      "prometheus: running, healthy",
      "Backup in backups/20261124T011000Z (manifest.json lists it). Restore with: npm run stack -- restore backups/20261124T011000Z",
      "",
    ].join("\n"));
    expect(await readFile(join(dir, "etl-monitoring-prometheus-data.tar.gz"), "utf8")).toBe("archive of etl-monitoring-prometheus-data:/volume:ro");
    expect(JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"))).toEqual({
      kind: "etl-monitoring-backup",
      version: 1,
      created: "2026-11-24T01:10:00.000Z",
      volumes: [{
        key: "prometheus-data",
        name: "etl-monitoring-prometheus-data",
        archive: "etl-monitoring-prometheus-data.tar.gz",
        bytes: 52,
        sha256: createHash("sha256").update("archive of etl-monitoring-prometheus-data:/volume:ro").digest("hex"),
      }],
    });
    expect(result.calls.slice(3)).toEqual([
      "docker image inspect --format {{.Id}} etl-monitoring/etl-metrics:0.1.0",
      "docker-compose … config",
      "docker volume inspect --format {{.Name}} etl-monitoring-prometheus-data",
      "docker volume inspect --format {{.Name}} etl-monitoring-grafana-data",
      "docker volume inspect --format {{.Name}} etl-monitoring-alertmanager-data",
      "docker-compose … ps -a -q",
      "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
      "docker-compose … stop prometheus",
      "docker run --rm --network none --user 0 -v etl-monitoring-prometheus-data:/volume:ro --entrypoint tar etl-monitoring/etl-metrics:0.1.0 -C /volume --numeric-owner -czf - .",
      "docker-compose … start prometheus",
      "docker-compose … ps -a -q",
      "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
    ]);

    const again = await run(["backup", "backups/20261124T011000Z"], { INSPECT_JSON: inspectJson() });
    expect(again.err).toBe("stack backup: backups/20261124T011000Z already holds a backup (manifest.json): name another folder\n");
    expect(again.code).toBe(1);
  });

  it("restores after checking the archives, emptying each volume first", async () => {
    const dir = "backups/20261124T011000Z";
    const result = await run(["restore", dir], { INSPECT_JSON: inspectJson({ status: "exited" }) });
    expect(result.err).toBe("");
    expect(result.out).toBe([
      `Restoring the backup of 2026-11-24T01:10:00.000Z from ${dir}`,
      "prometheus not running: nothing to stop.",
      "  etl-monitoring-prometheus-data.tar.gz -> etl-monitoring-prometheus-data (52 B)",
      "Restored 1 volume.",
      "",
    ].join("\n"));
    expect(result.code).toBe(0);
    expect(result.calls.slice(3)).toEqual([
      "docker image inspect --format {{.Id}} etl-monitoring/etl-metrics:0.1.0",
      "docker-compose … config",
      "docker-compose … ps -a -q",
      "docker inspect 9b8c7d6e5f4a 4f2a9c1e7b3d",
      "docker run --rm --network none --user 0 -v etl-monitoring-prometheus-data:/volume --entrypoint find etl-monitoring/etl-metrics:0.1.0 /volume -mindepth 1 -delete",
      "docker run --rm -i --network none --user 0 -v etl-monitoring-prometheus-data:/volume --entrypoint tar etl-monitoring/etl-metrics:0.1.0 -C /volume --numeric-owner -xzpf -",
      "unpacked: archive of etl-monitoring-prometheus-data:/volume:ro",
    ]);
  });

  it("changes nothing when the backup is missing or altered", async () => {
    const missing = await run(["restore", "nowhere"]);
    expect(missing.err).toBe("stack restore: no backup in nowhere: manifest.json not found\n");
    expect(missing.code).toBe(1);
    await writeFile(join(root, "backups/20261124T011000Z/etl-monitoring-prometheus-data.tar.gz"), "archive of something else");
    const altered = await run(["restore", "backups/20261124T011000Z"]);
    expect(altered.err).toBe(
      "stack restore: backups/20261124T011000Z/etl-monitoring-prometheus-data.tar.gz has 25 bytes, the manifest says 52: nothing was changed\n",
    );
    expect(altered.calls).toEqual([]);
  });

  it("says when the image with tar is not there", async () => {
    const result = await run(["backup", "b2"], { INSPECT_JSON: inspectJson(), NO_IMAGE: "1" });
    expect(result.err).toBe(
      "stack backup: the image etl-monitoring/etl-metrics:0.1.0 is not here (it is built by npm run stack -- up; or give --image / ETL_BACKUP_IMAGE with tar in it)\n",
    );
    expect(result.code).toBe(1);
  });
});
