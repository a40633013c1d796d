/**
 * Entry point of the `etl-secrets-init` service (bundled as
 * `dist/secrets-fanout.mjs`): runs {@linkcode fanOutSecrets} with the
 * stack's table and exits 0 when every service has its secrets, 1 when not
 * (Compose then keeps the services that depend on it from starting), 2 on bad
 * flags.
 *
 *     node secrets-fanout.mjs --from /run/secrets --to /secrets-out
 *
 * @module
 */
import process from "node:process";
import * as z from "zod";
import { CONTAINER_SECRETS, TLS_CONTAINER_SECRETS } from "../../lib/secrets/container_secrets.ts";
import { settingsOrExit } from "../../workers/start.ts";
import { fanOutSecrets } from "./fan_out.ts";

const FAN_OUT_SETTINGS = {
  from: {
    env: "ETL_SECRETS_FROM",
    flag: "from",
    help: "Folder of the Compose secrets, as given to this container.",
    defaultText: "/run/secrets",
    schema: z.string().min(1, "must not be empty").default("/run/secrets"),
  },
  to: {
    env: "ETL_SECRETS_TO",
    flag: "to",
    help: "Folder holding one mounted volume per service (etl, prometheus, alertmanager, grafana).",
    defaultText: "/secrets-out",
    schema: z.string().min(1, "must not be empty").default("/secrets-out"),
  },
  tls: {
    env: "ETL_SECRETS_TLS",
    flag: "tls",
    help: "Also hand out the CA and each service's certificate and key, and write the TLS web configs (docker-compose.tls.yml sets it).",
    defaultText: "off",
    boolean: true,
    // The flag gives a boolean, ETL_SECRETS_TLS the text 1/true/0/false.
    schema: z.union([z.boolean(), z.enum(["1", "true", "0", "false"]).transform((v) => v === "1" || v === "true")]).default(false),
  },
};

const parsed = settingsOrExit(FAN_OUT_SETTINGS, "Usage: secrets-fanout [flags]");
const { tls, ...folders } = parsed.values;
const shares = tls ? TLS_CONTAINER_SECRETS : CONTAINER_SECRETS;
const result = await fanOutSecrets({ ...folders, shares });
if (!result.ok) {
  process.stderr.write(result.message + "\n");
  process.exit(1);
}
const removed = result.removed.length > 0 ? `; removed ${result.removed.join(", ")}` : "";
process.stdout.write(`etl-secrets-init: ${result.copied} files in ${Object.keys(shares).length} volumes${tls ? " (TLS)" : ""}${removed}\n`);
