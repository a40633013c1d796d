/**
 * The management CLI's command line: the first word is the command
 * (`help COMMAND` and `COMMAND --help` give its help); flags may come
 * anywhere after it; a flag the command does not take is an error.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type FlagValues, settingName, type SettingSource, settingValues } from "../config/settings.ts";
import { SCENARIOS } from "../simulator/profile.ts";
import { commandHelp, commandSettings, isCommand, seeHelp, STACK_COMMANDS, STACK_USAGE, type StackCommand } from "./stack_commands.ts";
import { defaultStackSettings, GLOBAL_SETTINGS, type StackSettings } from "./stack_settings.ts";

/** Help to print (exit 0), a usage error (exit 2), or a command to run. */
export type ParsedStackCommand =
  | { kind: "help"; text: string }
  | { kind: "usage-error"; message: string }
  | { kind: "run"; command: StackCommand; args: string[]; settings: StackSettings; composeSetting: string };

/**
 * Reads the command line and the environment; never throws.
 *
 * @example
 * ```ts
 * parseStackCommand(["logs", "grafana", "--tail", "20"], {});
 * // { kind: "run", command: "logs", args: ["grafana"], settings: { ..., tail: "20", follow: false } }
 * ```
 */
export function parseStackCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedStackCommand {
  const [first, ...rest] = argv;
  const usageError = (message: string): ParsedStackCommand => ({ kind: "usage-error", message });
  if (first === undefined) return usageError(`stack: name a command\n\n${STACK_USAGE}`);
  if (first === "--help" || first === "-h") return { kind: "help", text: STACK_USAGE };
  if (first === "help") {
    if (rest.length === 0) return { kind: "help", text: STACK_USAGE };
    return isCommand(rest[0]!) ? { kind: "help", text: commandHelp(rest[0]) } : usageError(`stack: unknown command ${JSON.stringify(rest[0])}\n\n${STACK_USAGE}`);
  }
  if (!isCommand(first)) {
    const what = first.startsWith("-") ? `name a command before the flags (got ${first})` : `unknown command ${JSON.stringify(first)}`;
    return usageError(`stack: ${what}\n\n${STACK_USAGE}`);
  }
  const wrong = (problem: string) => usageError(`stack ${first}: ${problem}\n${seeHelp(first)}`);
  const spec = commandSettings(first);
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const setting of Object.values(spec)) options[setting.flag] = { type: setting.boolean ? "boolean" : "string" };

  let flags: FlagValues;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({ args: [...rest], options, strict: true, allowPositionals: true }));
  } catch (error) {
    // node:util's advice about "--" is noise here.
    return wrong((error as Error).message.replace(/\. To specify a positional argument[\s\S]*$/, ""));
  }
  if (flags.help) return { kind: "help", text: commandHelp(first) };
  const settings = settingValues(spec, env, flags);
  if (!settings.ok) return wrong(settings.message);
  const values = { ...defaultStackSettings(), ...settings.values } as StackSettings;

  if (first === "scenario") {
    if (values.status && positionals.length > 0) return wrong("give either a NAME or --status, not both");
    if (!values.status && positionals.length === 0) return wrong("name a scenario, or --status");
    // Refused here, before the simulator is asked: a typo is the command line's fault (exit 2), not the stack's.
    const name = positionals[0];
    if (name !== undefined && positionals.length === 1 && !(SCENARIOS as readonly string[]).includes(name)) {
      return wrong(`unknown scenario ${JSON.stringify(name)}: one of ${SCENARIOS.join(", ")}`);
    }
  }
  const { name, min, max } = STACK_COMMANDS[first].positionals;
  if (positionals.length < min) return wrong(`needs ${name}`);
  if (positionals.length > max) {
    return wrong(max === 0 ? `takes no argument, got ${positionals.join(" ")}` : `takes at most ${max} ${name}, got ${positionals.join(" ")}`);
  }
  // Advice about a bad Compose command names what was used: --compose or ETL_COMPOSE.
  const composeSetting = settingName(GLOBAL_SETTINGS.compose, (settings.sources.compose ?? "default") as SettingSource);
  return { kind: "run", command: first, args: positionals, settings: values, composeSetting };
}
