/**
 * `npm run stack:local`: the whole stack on 127.0.0.1 without Docker:
 * simulator, exporter, alert receiver, and Debian's Prometheus and
 * Alertmanager, with the secrets of `npm run secrets` (made when missing).
 * Prints the URLs and which credential opens what; Ctrl-C stops all of it.
 * Data stays in `.stack/data` between runs.
 *
 * @module
 */
import process from "node:process";
import { curlExample, DEFAULT_SECRETS_DIR, STACK_CREDENTIALS } from "../../lib/secrets/secrets_layout.ts";
import { textTable } from "../../lib/stack/text_table.ts";
import { TLS_EXTRA_NAMES_ENV } from "../../lib/secrets/certificates.ts";
import { ensureCertificates } from "../secrets/ca.ts";
import { ensureStackSecrets } from "../secrets/store.ts";
import { DEFAULT_PORTS, haveServerBinaries, INSTALL_HINT, startNativeStack } from "./native.ts";
import { channelsFromEnv, NOTIFICATION_HELP } from "./notification_env.ts";

const RUN_DIR = ".stack";

if (process.argv.includes("--help")) {
  const ports = Object.values(DEFAULT_PORTS).sort((a, b) => a - b).join(", ");
  process.stdout.write(
    `Usage: npm run stack:local\nStarts the native stack on 127.0.0.1 (ports ${ports}); Ctrl-C stops it.\n` +
      `  --tls  everything over HTTPS with the local CA of npm run secrets (curl --cacert secrets/ca.crt)\n\n${NOTIFICATION_HELP}\n`,
  );
  process.exit(0);
}
if (!haveServerBinaries()) {
  process.stderr.write(`stack:local needs Debian's Prometheus and Alertmanager: ${INSTALL_HINT}\n`);
  process.exit(1);
}

const notifications = channelsFromEnv(process.env, process.cwd());
if (!notifications.ok) {
  process.stderr.write(`stack:local: ${notifications.message}\n`);
  process.exit(1);
}
const tls = process.argv.includes("--tls");
const secretsDir = process.env.ETL_SECRETS_DIR ?? DEFAULT_SECRETS_DIR;
await ensureStackSecrets(secretsDir);
const caFile = tls ? (await ensureCertificates(secretsDir, { extraNames: process.env[TLS_EXTRA_NAMES_ENV] })).caFile : undefined;
process.stderr.write("Starting simulator, exporter, receiver, Alertmanager and Prometheus…\n");
let stack;
try {
  stack = await startNativeStack({ root: ".", runDir: RUN_DIR, secretsDir, ports: DEFAULT_PORTS, keepData: true, channels: notifications.channels, tls });
} catch (error) {
  process.stderr.write(`stack:local could not start: ${(error as Error).message}\n`);
  process.exit(1);
}

const { urls } = stack;
const lines = [
  "",
  `The stack is up${caFile ? `, HTTPS only (trust ${caFile}: curl --cacert ${caFile})` : ""} (logs in .stack/logs/):`,
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
  ...STACK_CREDENTIALS.filter((c) => c.name !== "grafana_admin").flatMap((c) => [`  ${c.user}: ${c.opens.replaceAll("`", "")}`, `      ${curlExample(c, secretsDir, caFile)}`]),
  "",
  "Provoke an alert: npm run scenario -- stall. Ctrl-C stops everything.",
  "",
];
process.stderr.write(lines.join("\n") + "\n");

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write("Stopping…\n");
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
