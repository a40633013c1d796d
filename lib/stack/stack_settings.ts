/**
 * The settings of the management CLI: those every command takes (where
 * Compose and the secrets are, what the stack publishes) and those of some
 * commands only. Each is a variable and a flag with a default and a help
 * line, parsed once by zod; the CLI hands the resolved ports and address
 * back to Compose, so both always agree on them.
 *
 * @module
 */
import * as z from "zod";
import { defaultsOf, portSetting as portSchema, type SettingSpec, type SettingsOf, type SettingsSpec } from "../config/settings.ts";
import { BACKUP_IMAGE, COMPOSE_FILE, COMPOSE_PROJECT } from "./compose_project.ts";
import { type PortKey, portByKey } from "./published_ports.ts";

/** The setting of a published port: its variable, flag and default from `PUBLISHED_PORTS`. */
export const portSetting = (key: PortKey): SettingSpec<number> => {
  const p = portByKey(key);
  return {
    env: p.env,
    flag: p.flag,
    help: `Host port of ${p.title} (${p.service}).`,
    defaultText: String(p.defaultPort),
    schema: portSchema(p.defaultPort),
  };
};

/** The settings every command takes. Paths left unset are resolved against the repository root, so the CLI works from any folder. */
export const GLOBAL_SETTINGS = {
  secretsDir: {
    env: "ETL_SECRETS_DIR",
    flag: "secrets-dir",
    help: "The secrets folder (npm run secrets); created with every credential when missing.",
    defaultText: "secrets/ in the repository",
    schema: z.string().min(1, "must not be empty").optional(),
  },
  bindAddress: {
    env: "ETL_BIND_ADDRESS",
    flag: "bind-address",
    help: "Host address the ports are published on; 0.0.0.0 exposes them to the network.",
    defaultText: "127.0.0.1",
    schema: z.union([z.ipv4(), z.ipv6()], { error: "must be an IP address such as 127.0.0.1 or 0.0.0.0" }).default("127.0.0.1"),
  },
  grafanaPort: portSetting("grafanaPort"),
  prometheusPort: portSetting("prometheusPort"),
  alertmanagerPort: portSetting("alertmanagerPort"),
  exporterPort: portSetting("exporterPort"),
  simulatorPort: portSetting("simulatorPort"),
  receiverPort: portSetting("receiverPort"),
  compose: {
    env: "ETL_COMPOSE",
    flag: "compose",
    help: "The Compose command, e.g. \"docker compose\" or docker-compose.",
    defaultText: "docker compose when it answers, else docker-compose",
    schema: z.string().trim().min(1, "must not be empty").optional(),
  },
  composeFile: {
    env: "ETL_COMPOSE_FILE",
    flag: "compose-file",
    help: "The Compose file.",
    defaultText: COMPOSE_FILE + " in the repository",
    schema: z.string().min(1, "must not be empty").optional(),
  },
  tls: {
    env: "ETL_TLS",
    flag: "tls",
    help: "Everything over HTTPS with the local CA of npm run secrets (deploy/compose/docker-compose.tls.yml on top; " +
      "curl --cacert secrets/ca.crt). Give it to every command of a stack started with it, or set ETL_TLS=1.",
    defaultText: "off",
    boolean: true,
    // The flag gives a boolean, ETL_TLS the text 1/true/0/false.
    schema: z.union([z.boolean(), z.enum(["1", "true", "0", "false"]).transform((v) => v === "1" || v === "true")]).default(false),
  },
  project: {
    env: "ETL_COMPOSE_PROJECT",
    flag: "project",
    help: "The Compose project name.",
    defaultText: COMPOSE_PROJECT,
    schema: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "must be lower-case letters, digits, - and _").default(COMPOSE_PROJECT),
  },
} satisfies SettingsSpec;

/** Settings of some commands only; each command names those it takes in its entry of the command table. */
export const COMMAND_SETTINGS = {
  timeout: {
    env: "ETL_STACK_TIMEOUT",
    flag: "timeout",
    help: "Seconds to wait for the services to be healthy.",
    defaultText: "300",
    schema: z.coerce.number({ error: "must be a number" }).positive("must be above 0").max(86_400).default(300),
  },
  deleteData: {
    flag: "delete-data",
    help: "Also remove the data volumes (Prometheus, Grafana, Alertmanager, logs, secrets copies).",
    defaultText: "off: the data is kept",
    boolean: true,
    schema: z.boolean().default(false),
  },
  follow: {
    flag: "follow",
    help: "Keep printing new lines until Ctrl-C.",
    defaultText: "off",
    boolean: true,
    schema: z.boolean().default(false),
  },
  tail: {
    flag: "tail",
    help: "Lines of each service's log to show first, or all.",
    defaultText: "100",
    schema: z.string().regex(/^(\d+|all)$/, "must be a number of lines or all").default("100"),
  },
  status: {
    flag: "status",
    help: "Show the running scenario instead of switching it.",
    defaultText: "off",
    boolean: true,
    schema: z.boolean().default(false),
  },
  image: {
    env: "ETL_BACKUP_IMAGE",
    flag: "image",
    help: "Image whose tar copies the volumes (run as root, entrypoint tar).",
    defaultText: BACKUP_IMAGE,
    schema: z.string().min(1, "must not be empty").default(BACKUP_IMAGE),
  },
} satisfies SettingsSpec;

export type CommandSetting = keyof typeof COMMAND_SETTINGS;

const ALL_SETTINGS = { ...GLOBAL_SETTINGS, ...COMMAND_SETTINGS };

/** The values of every setting; those a command does not take keep their default. */
export type StackSettings = SettingsOf<typeof ALL_SETTINGS>;

/** Every setting at its default, as if nothing were given. */
export function defaultStackSettings(): StackSettings {
  return defaultsOf(ALL_SETTINGS);
}
