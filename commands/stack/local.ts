/**
 * `npm run stack:local`: the whole stack on 127.0.0.1 without Docker:
 * simulator, exporter, alert receiver, and Debian's Prometheus and
 * Alertmanager, with the secrets of `npm run secrets` (made when missing).
 * Prints the URLs and which credential opens what; Ctrl-C stops all of it.
 * Data stays in `.stack/data` (`--run-dir`) between runs. The settings and
 * their checks are in lib/stack/local_settings.ts; a port another program
 * holds, or a part that stops while the rest starts, ends it with exit 1.
 *
 * @module
 */
import { join } from "node:path";
import process from "node:process";
import { defaultsOf, settingName } from "../../lib/config/settings.ts";
import { credentialSpec, curlExample, STACK_CREDENTIALS } from "../../lib/secrets/secrets_layout.ts";
import { LOCAL_STACK_SETTINGS, LOCAL_STACK_USAGE, NATIVE_PORT_KEYS, nativePorts, timeScaleFor } from "../../lib/stack/local_settings.ts";
import { type PortProbe, repeatedPorts, takenPorts } from "../../lib/stack/port_checks.ts";
import type { PortKey } from "../../lib/stack/published_ports.ts";
import { textTable } from "../../lib/stack/text_table.ts";
import { TLS_EXTRA_NAMES_ENV } from "../../lib/secrets/certificates.ts";
import { onShutdown, settingsOrExit } from "../../workers/start.ts";
import { ensureCertificates } from "../secrets/ca.ts";
import { ensureStackSecrets } from "../secrets/store.ts";
import { findRepoRoot, probePort } from "./docker_host.ts";
import { DEFAULT_PORTS, haveServerBinaries, INSTALL_HINT, type NativeStack, startNativeStack } from "./native.ts";
import { channelsFromEnv, NOTIFICATION_HELP } from "./notification_env.ts";
import { howItStopped } from "./processes.ts";

const HOST = "127.0.0.1";
// The e-mail and Slack settings are variables only, listed before the flags.
const usage = LOCAL_STACK_USAGE.replace("\n\nSettings (flag", `\n\n${NOTIFICATION_HELP}\n\nSettings (flag`);
const { values: settings, sources } = settingsOrExit(LOCAL_STACK_SETTINGS, usage);
// Advice names the setting that was used: with --prometheus-port given, ETL_PROMETHEUS_PORT would change nothing.
const nameOf = (key: PortKey) => settingName(LOCAL_STACK_SETTINGS[key as keyof typeof LOCAL_STACK_SETTINGS], sources[key as keyof typeof sources]);
const ports = nativePorts(settings);
const fail = (message: string, code: number): never => {
  process.stderr.write(`stack:local: ${message}\n`);
  process.exit(code);
};

const repeated = repeatedPorts(settings, nameOf);
if (repeated.length > 0) fail(repeated.join("\n  "), 2);
if (!haveServerBinaries()) fail(`needs Debian's Prometheus and Alertmanager: ${INSTALL_HINT}`, 1);
// Checked before anything starts: once a part runs, its readiness probe could be answered by the other program.
const probes: PortProbe[] = [];
for (const key of Object.values(NATIVE_PORT_KEYS)) {
  probes.push({ key, port: settings[key], free: (await probePort(HOST, settings[key])) === "free", heldByStack: false });
}
const taken = takenPorts(probes, HOST, nameOf);
if (taken.length > 0) fail(taken.join("\n  "), 1);

const notifications = channelsFromEnv(process.env, process.cwd());
if (!notifications.ok) fail(notifications.message, 1);
const { secretsDir, runDir, speed, tls } = settings;
await ensureStackSecrets(secretsDir);
const caFile = tls ? (await ensureCertificates(secretsDir, { extraNames: process.env[TLS_EXTRA_NAMES_ENV] })).caFile : undefined;
const timeScale = timeScaleFor(speed);
process.stderr.write(`Starting simulator, exporter, receiver, Alertmanager and Prometheus (speed ${speed})…\n`);
let stack: NativeStack;
try {
  // prometheus/ and dist/ are found from this file, so it runs from any folder; the folders it is given are read from the working one.
  stack = await startNativeStack({
    root: findRepoRoot(import.meta.url),
    runDir,
    secretsDir,
    ports,
    keepData: true,
    speed,
    ...timeScale,
    channels: notifications.ok ? notifications.channels : undefined,
    tls,
  });
} catch (error) {
  stack = fail(`could not start, stopped everything: ${(error as Error).message}`, 1);
}
stack.group.onUnexpectedExit = (exit) => {
  process.stderr.write(`stack:local: ${exit.name} stopped (${howItStopped(exit)}), the rest keeps running; see ${exit.logFile}\n`);
};

const { urls } = stack;
/** `url` (an example on a default port) on the port this stack runs that service on. */
function movedPort(url: string): string {
  const parsed = new URL(url);
  const service = (Object.keys(DEFAULT_PORTS) as (keyof typeof DEFAULT_PORTS)[]).find((s) => String(DEFAULT_PORTS[s]) === parsed.port);
  if (service !== undefined) parsed.port = String(ports[service]);
  return parsed.toString();
}
// `npm run scenario` defaults to port 8000 and secrets/: name what differs.
const scenarioFlags = [
  ...(ports.simulator === DEFAULT_PORTS.simulator ? [] : [`--url ${urls.simulator}`]),
  ...(secretsDir === defaultsOf(LOCAL_STACK_SETTINGS).secretsDir ? [] : [`--password-file ${join(secretsDir, credentialSpec("control").passwordFile)}`]),
];
const lines = [
  "",
  `The stack is up${caFile ? `, HTTPS only (trust ${caFile}: curl --cacert ${caFile})` : ""} (logs in ${runDir}/logs/):`,
  ...textTable([
    ["exporter", `${urls.exporter}/metrics`, "no auth"],
    ["simulator", `${urls.simulator}/metrics`, "user metrics"],
    ["", `${urls.simulator}/control/scenario`, "user control"],
    ["receiver", `${urls.receiver}/notifications`, "user alertmanager"],
    ["Prometheus", `${urls.prometheus}/`, "users admin, readonly"],
    ["Alertmanager", `${urls.alertmanager}/`, "no auth; listens on 127.0.0.1 only"],
  ]),
  "",
  "Credentials (passwords in files, never printed):",
  ...STACK_CREDENTIALS.filter((c) => c.name !== "grafana_admin").flatMap((c) => [
    `  ${c.user}: ${c.opens.replaceAll("`", "")}`,
    `      ${curlExample({ ...c, url: movedPort(c.url) }, secretsDir, caFile)}`,
  ]),
  "",
  speed === 1
    ? "Rules: the production ones (prometheus/rules/etl-alerts.yml)."
    : `Rules: scaled to speed ${speed}, scrapes every ${timeScale.scrapeInterval}; Alertmanager's timings and the exporter's staleness limit are production's.`,
  `Provoke an alert: npm run scenario -- ${[...scenarioFlags, "stall"].join(" ")}. Ctrl-C stops everything.`,
  "",
];
process.stderr.write(lines.join("\n") + "\n");

onShutdown(async () => {
  process.stderr.write("Stopping…\n");
  await stack.stop();
});
