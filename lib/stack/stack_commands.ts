/**
 * The commands of the management CLI (`npm run stack -- COMMAND`): what each
 * takes, its help, and the help texts built from them.
 *
 * A command's arguments are written once, as its usage shows them
 * (`[SERVICE...]`, `DIR`, `NAME | --status`); how many it takes is read
 * from there.
 *
 * @module
 */
import { helpText, type SettingsSpec } from "../config/settings.ts";
import { COMPOSE_FILE, COMPOSE_PROJECT } from "./compose_project.ts";
import { type CommandSetting, COMMAND_SETTINGS, GLOBAL_SETTINGS } from "./stack_settings.ts";

/** How the CLI is started, shown in the help texts. */
export const CLI_NAME = "npm run stack --";

interface CommandEntry {
  /** The arguments as the usage line shows them; ` | ` separates alternatives. */
  args: string;
  summary: string;
  help: string;
  settings: readonly CommandSetting[];
}

/** What a command takes besides flags: `name` in messages, and how many. */
export interface Positionals {
  name: string;
  min: number;
  max: number;
}

/** One command as the parser and the help read it. */
export interface StackCommandSpec extends CommandEntry {
  /** `logs [SERVICE]`; alternatives joined by ` | `, each starting with the command. */
  usage: string;
  positionals: Positionals;
}

// The volume copies run a container of this image and wait for the services they stop and start.
const VOLUME_COPY: readonly CommandSetting[] = ["image", "timeout"];

const ENTRIES = {
  up: {
    args: "[SERVICE...]",
    summary: "build, start, wait until healthy, print the URLs and credentials",
    help: "Creates the secrets when missing, checks Docker and the host ports, builds the images (output shown as it\n" +
      "comes), starts the services (all, or those named and what they depend on) and waits until each one is\n" +
      "healthy (etl-secrets-init: exited 0). Then prints the URLs and which credential opens what.",
    settings: ["timeout"],
  },
  down: {
    args: "",
    summary: "stop and remove the containers; the data volumes are kept",
    help: "Stops and removes the containers and the network. The named volumes (Prometheus's, Grafana's and\n" +
      "Alertmanager's data, the logs) are kept unless --delete-data.",
    settings: ["deleteData"],
  },
  "restart-etl": {
    args: "",
    summary: "restart etl-simulator and etl-metrics, wait until healthy",
    help: "Restarts etl-simulator and etl-metrics only (the rest keeps running) and waits until both are healthy.",
    settings: ["timeout"],
  },
  status: {
    args: "",
    summary: "state and health of each service, Prometheus targets, firing alerts",
    help: "Shows each service's state and health, each Prometheus target's health and the alerts firing\n" +
      "(Prometheus is asked as user readonly, password from the secrets folder).\n" +
      "Exit code 0 when every service is healthy, every target up and no alert firing; 1 otherwise.",
    settings: [],
  },
  logs: {
    args: "[SERVICE]",
    summary: "the services' logs (--follow, --tail N)",
    help: "Prints the logs of every service, or of SERVICE (compose logs).",
    settings: ["follow", "tail"],
  },
  scenario: {
    args: "NAME | --status",
    summary: "switch the simulator's scenario, or show it",
    help: "Switches the running simulator's scenario through its control endpoint (user control, password\n" +
      "from the secrets folder); NAME is normal, stall, crash, slow, error-burst or low-throughput.",
    settings: ["status"],
  },
  backup: {
    args: "[DIR]",
    summary: "archive Prometheus's, Grafana's and Alertmanager's data into DIR",
    help: "Stops prometheus, grafana and alertmanager (for a consistent copy), archives each data volume into\n" +
      "DIR/<volume>.tar.gz with a manifest.json (time, sizes, SHA-256), then starts again those that were\n" +
      "running. DIR defaults to backups/<UTC time> in the repository. Works with the stack up or down.",
    settings: VOLUME_COPY,
  },
  restore: {
    args: "DIR",
    summary: "put a backup back into the data volumes",
    help: "Checks DIR's manifest.json and archives first, stops prometheus, grafana and alertmanager, empties\n" +
      "each volume of the manifest and unpacks its archive into it (owners kept), then starts again those\n" +
      "that were running. A missing volume is created.",
    settings: VOLUME_COPY,
  },
} as const satisfies Record<string, CommandEntry>;

export type StackCommand = keyof typeof ENTRIES;

/**
 * How many arguments the usage's alternatives allow: `[X]` is optional,
 * `X...` repeats, a word starting with `-` is a flag.
 *
 * @example
 * ```ts
 * positionalsOf(["[SERVICE...]"]); // { name: "SERVICE", min: 0, max: Infinity }
 * positionalsOf(["NAME", "--status"]); // { name: "NAME", min: 0, max: 1 }
 * ```
 */
export function positionalsOf(alternatives: readonly string[]): Positionals {
  let name = "";
  let min = Infinity;
  let max = 0;
  for (const alternative of alternatives) {
    const words = alternative.split(" ").filter((w) => w !== "" && !w.startsWith("-"));
    let required = 0;
    let allowed = 0;
    for (const word of words) {
      const bare = word.replace(/^\[|\]$/g, "").replace(/\.\.\.$/, "");
      name ||= bare;
      if (!word.startsWith("[")) required++;
      allowed = word.includes("...") ? Infinity : allowed + 1;
    }
    min = Math.min(min, required);
    max = Math.max(max, allowed);
  }
  return { name, min, max };
}

/** The commands, in the order `--help` lists them. */
export const STACK_COMMANDS = Object.fromEntries(
  Object.entries(ENTRIES).map(([command, entry]) => {
    const alternatives = entry.args.split(" | ");
    const usage = alternatives.map((a) => `${command} ${a}`.trimEnd()).join(" | ");
    return [command, { ...entry, usage, positionals: positionalsOf(alternatives) }];
  }),
) as Record<StackCommand, StackCommandSpec>;

/** Whether `word` names a command. */
export function isCommand(word: string): word is StackCommand {
  return Object.hasOwn(STACK_COMMANDS, word);
}

const firstUsage = (command: StackCommand) => STACK_COMMANDS[command].usage.split(" | ")[0]!;

/** The help of the whole CLI. */
export const STACK_USAGE = `Usage: ${CLI_NAME} COMMAND [flags]     (or: deno task stack COMMAND [flags])

Manages the Docker Compose stack (${COMPOSE_FILE}, project ${COMPOSE_PROJECT}).

Commands:
${(Object.keys(STACK_COMMANDS) as StackCommand[]).map((c) => `  ${firstUsage(c).padEnd(18)} ${STACK_COMMANDS[c].summary}`).join("\n")}

${CLI_NAME} COMMAND --help lists the flags of a command (every command also takes
the settings of the Compose stack: --secrets-dir, --bind-address, the ports, --compose).

Exit codes: 0 done, 1 failed (the message says why), 2 the command line was wrong.`;

/** The settings `command` takes: those of every command, then its own. */
export function commandSettings(command: StackCommand): SettingsSpec {
  return { ...GLOBAL_SETTINGS, ...ownSettings(command) };
}

function ownSettings(command: StackCommand): SettingsSpec {
  return Object.fromEntries(STACK_COMMANDS[command].settings.map((k) => [k, COMMAND_SETTINGS[k]]));
}

/** The help of one command: its usage, what it does, its flags, then the settings every command takes. */
export function commandHelp(command: StackCommand): string {
  const spec = STACK_COMMANDS[command];
  const usage = spec.usage.split(" | ").map((u, i) => `${i === 0 ? "Usage:" : "      "} ${CLI_NAME} ${u} [flags]`).join("\n");
  const parts = [usage, "", spec.help, ""];
  if (spec.settings.length > 0) parts.push(helpText(ownSettings(command), "Flags (flag, environment variable, default):"), "");
  parts.push(helpText(GLOBAL_SETTINGS, "Settings of every command:"));
  return parts.join("\n");
}

/** The one-line usage a command-line error ends with. */
export function seeHelp(command: StackCommand): string {
  return `Usage: ${CLI_NAME} ${firstUsage(command)} [flags]; ${CLI_NAME} ${command} --help lists them.`;
}
