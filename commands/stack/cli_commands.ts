/**
 * The commands of `npm run stack -- COMMAND` (the Compose stack's
 * management CLI): up, down, restart-etl, status, logs, scenario, backup,
 * restore. `commands/stack/cli.ts` runs {@linkcode runStackCli} with the
 * process's arguments; the tests run it in-process.
 *
 * Compose is always run as `-p etl-monitoring -f <repo>/deploy/compose/docker-compose.yml`
 * with the caller's environment plus the secrets folder made absolute,
 * the bind address and ports as resolved here, and `ETL_NPM_REGISTRY` from
 * `npm config get registry` for the build.
 *
 * Exit codes: 0 done, 1 failed (one line says why, no stack trace), 2 the
 * command line was wrong; `logs` ends with Compose's code.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { runStackCli } from "./cli_commands.ts";
 * process.exitCode = await runStackCli(process.argv.slice(2), process.env, {
 *   out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), tty: process.stdout.isTTY === true,
 * }, { root: "/repo", cwd: process.cwd() });
 * ```
 * @module
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { buildArgs, downArgs, logsArgs, serviceArgs, servicesToStart, upArgs } from "../../lib/stack/compose_command.ts";
import { ETL_SERVICES, STACK_SERVICES } from "../../lib/stack/compose_project.ts";
import { parseStackCommand } from "../../lib/stack/parse_stack_command.ts";
import { connectHost, type PortProbe, repeatedPorts, stackUrls, takenPorts } from "../../lib/stack/port_checks.ts";
import { portByKey, portOf, PUBLISHED_PORTS } from "../../lib/stack/published_ports.ts";
import { type CredentialLine, readySummary } from "../../lib/stack/ready_summary.ts";
import type { StackCommand } from "../../lib/stack/stack_commands.ts";
import { type ContainerInfo, publishedPort } from "../../lib/stack/containers.ts";
import { type Alert, type Fetched, parseAlerts, parseTargets, statusReport, type Target } from "../../lib/stack/stack_status.ts";
import { CREDENTIALS_REFERENCE_FILE, credentialSpec, STACK_CREDENTIALS } from "../../lib/secrets/secrets_layout.ts";
import { basicAuthorization } from "../../lib/auth/basic_authorization.ts";
import { ensureStackSecrets } from "../secrets/store.ts";
import { ensureCertificates } from "../secrets/ca.ts";
import { TLS_EXTRA_NAMES_ENV } from "../../lib/secrets/certificates.ts";
import { fetchTrusting, httpGet } from "./https_get.ts";
import { readPassword } from "../../workers/secret_files.ts";
import { runScenarioCommand, ScenarioError, type ScenarioHints } from "../scenario/scenario_cli.ts";
import { backup, restore } from "./backup_commands.ts";
import { caFileOf, openStack, shown, type StackContext, type StackIo, type StackPlace, waitReady } from "./context.ts";
import { detectCompose, engineIsLocal, probePort } from "./docker_host.ts";
import { type Env, StackError } from "./run_command.ts";

const SCENARIO_HINTS: ScenarioHints = {
  start: "npm run stack -- up",
  passwordMade: "npm run stack -- up makes it",
  crash: "Docker restarts its container, the exporter keeps running",
};

/**
 * Runs the command line and returns the exit code; never throws. Errors
 * are printed as one line after `stack COMMAND: `.
 *
 * @example
 * ```ts
 * const code = await runStackCli(["status"], process.env, io, { root: "/repo", cwd: "/repo" });
 * ```
 */
export async function runStackCli(argv: readonly string[], env: Env, io: StackIo, place: StackPlace): Promise<number> {
  const parsed = parseStackCommand(argv, env);
  if (parsed.kind === "help") {
    io.out(parsed.text + "\n");
    return 0;
  }
  if (parsed.kind === "usage-error") {
    io.err(`${parsed.message}\n`);
    return 2;
  }
  const { command, args, settings } = parsed;
  const ctx: StackContext = {
    command,
    args,
    settings,
    env,
    io,
    place,
    secretsDir: settings.secretsDir === undefined ? join(place.root, "secrets") : resolve(place.cwd, settings.secretsDir),
  };
  try {
    // A Compose command given by hand is checked before anything is touched (secrets made, Docker asked).
    if (command !== "scenario" && settings.compose !== undefined) ctx.composeCommand = await detectCompose(settings.compose, env, parsed.composeSetting);
    return await COMMANDS[command](ctx);
  } catch (error) {
    if (error instanceof StackError || error instanceof ScenarioError) {
      io.err(`stack ${command}: ${error.message}\n`);
      return error.code;
    }
    io.err(`stack ${command}: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

const COMMANDS: Record<StackCommand, (ctx: StackContext) => Promise<number>> = {
  up,
  down,
  "restart-etl": restartEtl,
  status,
  logs,
  scenario,
  backup,
  restore,
};


async function up(ctx: StackContext): Promise<number> {
  const { io, settings } = ctx;
  const problems = repeatedPorts(settings);
  if (problems.length > 0) throw new StackError(problems.join("; "), 2);

  const secrets = await ensureStackSecrets(ctx.secretsDir);
  const created = secrets.credentials.filter((c) => c.password !== "kept").map((c) => c.name);
  io.out(created.length > 0
    ? `Secrets created in ${shown(ctx, ctx.secretsDir)}: ${created.join(", ")} (the files hold the passwords; nothing is printed)\n`
    : `Secrets: ${shown(ctx, ctx.secretsDir)} (every password present)\n`);
  if (settings.tls) {
    // Made, or renewed within 30 days of expiry, as `npm run secrets` does; the init service hands them out.
    const certificates = await ensureCertificates(ctx.secretsDir, { extraNames: ctx.env[TLS_EXTRA_NAMES_ENV] });
    const changed = certificates.servers.filter((c) => c.outcome !== "kept").map((c) => `${c.service} (${c.outcome})`);
    io.out(`HTTPS with the local CA ${shown(ctx, certificates.caFile)}${changed.length > 0 ? `: certificates ${changed.join(", ")}` : ""}\n`);
  }

  const stack = await openStack(ctx, { registry: true });
  const { services } = await stack.config();
  let toStart: string[];
  try {
    toStart = servicesToStart(services, ctx.args, STACK_SERVICES);
  } catch (error) {
    throw new StackError((error as Error).message, 2);
  }

  if (engineIsLocal(stack.env)) {
    const containers = await stack.containers();
    const ownPorts = new Set<number>();
    for (const c of containers.values()) if (c.status === "running") for (const ports of Object.values(c.ports)) for (const p of ports) ownPorts.add(p);
    const probes: PortProbe[] = [];
    for (const service of toStart) {
      const spec = portOf(service);
      if (spec === undefined) continue;
      const port = settings[spec.key];
      const found = await probePort(settings.bindAddress, port);
      if (found === "unavailable") {
        throw new StackError(`ETL_BIND_ADDRESS ${settings.bindAddress} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its own addresses`, 2);
      }
      probes.push({ key: spec.key, port, free: found === "free", heldByStack: ownPorts.has(port) });
    }
    const taken = takenPorts(probes, settings.bindAddress);
    if (taken.length > 0) throw new StackError(taken.join("; "));
  } else {
    io.out(`Ports not checked: the engine is not on this machine (DOCKER_HOST=${stack.env.DOCKER_HOST}).\n`);
  }

  io.out(`Building the images (${stack.target.command.join(" ")} build)…\n`);
  await stack.run(buildArgs(ctx.args.length > 0 ? toStart : []));
  io.out(`Starting ${ctx.args.length > 0 ? toStart.join(", ") : "the stack"}…\n`);
  try {
    await stack.run(upArgs(ctx.args));
  } catch (error) {
    // Compose stops when a dependency is unhealthy: say which, with its log, as a timeout would.
    await waitReady(ctx, stack, toStart, 0, (error as Error).message);
    throw error;
  }
  io.out(`Waiting until ${toStart.length} services are ready (timeout ${settings.timeout} s)…\n`);
  await waitReady(ctx, stack, toStart, settings.timeout);

  const containers = await stack.containers();
  const urls = urlsOf(ctx, containers, toStart);
  const credentials: CredentialLine[] = STACK_CREDENTIALS.filter((c) => toStart.includes(CREDENTIAL_SERVICE[c.name])).map((c) => ({
    opens: c.opens,
    user: c.user,
    passwordFile: shown(ctx, join(ctx.secretsDir, c.passwordFile)),
  }));
  io.out(
    "\n" + readySummary({
      project: settings.project,
      urls,
      bindAddress: settings.bindAddress,
      credentials,
      reference: shown(ctx, join(ctx.secretsDir, CREDENTIALS_REFERENCE_FILE)),
      ...(settings.tls ? { caFile: shown(ctx, caFileOf(ctx)!) } : {}),
    }).join("\n") + "\n",
  );
  if (settings.tls) io.out("The other commands take --tls too for this stack (or set ETL_TLS=1): status and scenario then ask over HTTPS.\n");
  return 0;
}

/** The service each credential opens. */
const CREDENTIAL_SERVICE: Record<(typeof STACK_CREDENTIALS)[number]["name"], string> = {
  metrics: "etl-simulator",
  control: "etl-simulator",
  receiver: "etl-alert-receiver",
  prometheus_admin: "prometheus",
  prometheus_readonly: "prometheus",
  grafana_admin: "grafana",
};

/** URLs of `services`, with the host port each running container really publishes. */
function urlsOf(ctx: StackContext, containers: ReadonlyMap<string, ContainerInfo>, services: readonly string[]): Record<string, string> {
  const ports = { ...ctx.settings };
  for (const p of PUBLISHED_PORTS) ports[p.key] = publishedPort(containers.get(p.service), p.containerPort) ?? ports[p.key];
  const all = stackUrls({ ...ports, tls: ctx.settings.tls });
  return Object.fromEntries(Object.entries(all).filter(([service]) => services.includes(service)));
}

async function down(ctx: StackContext): Promise<number> {
  const stack = await openStack(ctx);
  ctx.io.out(ctx.settings.deleteData
    ? "Stopping the stack and deleting its volumes (Prometheus, Grafana and Alertmanager data, logs)…\n"
    : "Stopping the stack (the data volumes are kept; --delete-data removes them)…\n");
  await stack.run(downArgs(ctx.settings.deleteData));
  return 0;
}

async function restartEtl(ctx: StackContext): Promise<number> {
  const stack = await openStack(ctx);
  const containers = await stack.containers();
  const missing = ETL_SERVICES.filter((s) => containers.get(s) === undefined);
  if (missing.length > 0) throw new StackError(`${missing.join(" and ")} not created: start the stack first (npm run stack -- up)`);
  ctx.io.out(`Restarting ${ETL_SERVICES.join(" and ")}…\n`);
  await stack.run(serviceArgs("restart", ETL_SERVICES));
  await waitReady(ctx, stack, ETL_SERVICES, ctx.settings.timeout);
  ctx.io.out(`${ETL_SERVICES.join(" and ")} healthy.\n`);
  return 0;
}

async function status(ctx: StackContext): Promise<number> {
  const stack = await openStack(ctx);
  const { services } = await stack.config();
  const order = [...STACK_SERVICES.filter((s) => services.has(s)), ...[...services.keys()].filter((s) => !(STACK_SERVICES as readonly string[]).includes(s)).sort()];
  const containers = await stack.containers();
  const prometheus = containers.get("prometheus");
  const port = publishedPort(prometheus, portByKey("prometheusPort").containerPort) ?? ctx.settings.prometheusPort;
  const url = `${ctx.settings.tls ? "https" : "http"}://${connectHost(ctx.settings.bindAddress)}:${port}`;
  let targets: Fetched<Target[]>;
  let alerts: Fetched<Alert[]>;
  if (prometheus?.status !== "running") {
    targets = alerts = { ok: false, error: "Prometheus is not running" };
  } else {
    const auth = await basicAuth(ctx, "prometheus_readonly");
    if (!auth.ok) {
      targets = alerts = auth;
    } else {
      const ca = await trustedCa(ctx);
      targets = ca.ok ? await askPrometheus(url, "/api/v1/targets?state=active", auth.value, parseTargets, ca.value) : ca;
      alerts = ca.ok ? await askPrometheus(url, "/api/v1/alerts", auth.value, parseAlerts, ca.value) : ca;
    }
  }
  const report = statusReport({ project: ctx.settings.project, services: order, containers, prometheus: { url, targets, alerts } });
  ctx.io.out(report.lines.join("\n") + "\n");
  return report.exitCode;
}

async function basicAuth(ctx: StackContext, name: "prometheus_readonly"): Promise<Fetched<string>> {
  const spec = credentialSpec(name);
  const file = join(ctx.secretsDir, spec.passwordFile);
  let password: string;
  try {
    password = await readPassword(file, { what: `${spec.user} password`, whenMissing: "npm run stack -- up makes it" });
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  return { ok: true, value: basicAuthorization(spec.user, password) };
}

/** The PEM of the CA to trust in TLS mode (undefined in plain mode), or why it cannot be read. */
async function trustedCa(ctx: StackContext): Promise<Fetched<string | undefined>> {
  const file = caFileOf(ctx);
  if (file === undefined) return { ok: true, value: undefined };
  try {
    return { ok: true, value: await readFile(file, "utf8") };
  } catch (error) {
    return { ok: false, error: `cannot read the CA ${shown(ctx, file)} (${(error as { code?: string }).code ?? (error as Error).message}): npm run stack -- up --tls makes it` };
  }
}

async function askPrometheus<T>(url: string, path: string, authorization: string, parse: (body: string) => T, ca: string | undefined): Promise<Fetched<T>> {
  let response: { status: number; body: string };
  try {
    response = await httpGet(url + path, { headers: { authorization }, ca, timeoutMs: 10_000 });
  } catch (error) {
    return { ok: false, error: `cannot reach ${url} (${(error as { code?: string }).code ?? (error as Error).message})` };
  }
  const { body } = response;
  if (response.status === 401) return { ok: false, error: `${url}${path} refused the readonly password (HTTP 401)` };
  if (response.status < 200 || response.status > 299) return { ok: false, error: `${url}${path} answered HTTP ${response.status}` };
  try {
    return { ok: true, value: parse(body) };
  } catch (error) {
    return { ok: false, error: `${url}${path}: ${(error as Error).message}` };
  }
}

async function logs(ctx: StackContext): Promise<number> {
  const stack = await openStack(ctx);
  return await stack.runCode(logsArgs({ service: ctx.args[0], tail: ctx.settings.tail, follow: ctx.settings.follow }));
}

async function scenario(ctx: StackContext): Promise<number> {
  const host = connectHost(ctx.settings.bindAddress);
  const ca = await trustedCa(ctx);
  if (!ca.ok) throw new StackError(ca.error);
  const line = await runScenarioCommand(
    {
      url: `${ctx.settings.tls ? "https" : "http"}://${host}:${ctx.settings.simulatorPort}`,
      user: credentialSpec("control").user,
      passwordFile: join(ctx.secretsDir, credentialSpec("control").passwordFile),
      scenario: ctx.settings.status ? undefined : ctx.args[0],
    },
    ca.value === undefined ? fetch : fetchTrusting(ca.value),
    SCENARIO_HINTS,
  );
  ctx.io.out(line + "\n");
  return 0;
}

