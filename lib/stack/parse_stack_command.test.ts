import { describe, expect, it } from "vitest";
import { parseStackCommand } from "./parse_stack_command.ts";
import { commandHelp, STACK_USAGE } from "./stack_commands.ts";
import { defaultStackSettings } from "./stack_settings.ts";

// stack_settings.test.ts pins each default.
const DEFAULTS = defaultStackSettings();

describe("parseStackCommand", () => {
  it("reads the command, its arguments, flags anywhere after it, and the environment", () => {
    expect(parseStackCommand(["up", "grafana", "--timeout", "60", "prometheus"], { ETL_GRAFANA_PORT: "3001", ETL_BIND_ADDRESS: "0.0.0.0" })).toEqual({
      kind: "run",
      command: "up",
      args: ["grafana", "prometheus"],
      settings: { ...DEFAULTS, grafanaPort: 3001, bindAddress: "0.0.0.0", timeout: 60 },
      composeSetting: "--compose (or ETL_COMPOSE)",
    });
    expect(parseStackCommand(["logs", "--follow", "--tail=all", "grafana"], {})).toEqual({
      kind: "run",
      command: "logs",
      args: ["grafana"],
      settings: { ...DEFAULTS, follow: true, tail: "all" },
      composeSetting: "--compose (or ETL_COMPOSE)",
    });
    expect(parseStackCommand(["down", "--delete-data", "--secrets-dir", "/s"], { ETL_COMPOSE: "docker-compose" })).toEqual({
      kind: "run",
      command: "down",
      args: [],
      settings: { ...DEFAULTS, deleteData: true, secretsDir: "/s", compose: "docker-compose" },
      composeSetting: "ETL_COMPOSE",
    });
    expect(parseStackCommand(["up", "--compose", "podman compose"], {})).toMatchObject({ composeSetting: "--compose" });
    expect(parseStackCommand(["scenario", "--status"], {})).toMatchObject({ kind: "run", args: [], settings: { status: true } });
  });

  it("lets a flag win over its variable, and ignores the variables of flags the command does not take", () => {
    const parsed = parseStackCommand(["status", "--prometheus-port", "19090"], { ETL_PROMETHEUS_PORT: "29090", ETL_STACK_TIMEOUT: "soon" });
    expect(parsed).toMatchObject({ kind: "run", settings: { prometheusPort: 19090, timeout: 300 } });
  });

  it("gives the whole help, or a command's", () => {
    expect(parseStackCommand(["--help"], {})).toEqual({ kind: "help", text: STACK_USAGE });
    expect(parseStackCommand(["help"], {})).toEqual({ kind: "help", text: STACK_USAGE });
    expect(parseStackCommand(["help", "logs"], {})).toEqual({ kind: "help", text: commandHelp("logs") });
    expect(parseStackCommand(["backup", "-h"], {})).toEqual({ kind: "help", text: commandHelp("backup") });
    expect(parseStackCommand(["up", "grafana", "--help"], {})).toEqual({ kind: "help", text: commandHelp("up") });
  });

  it("explains each wrong command line in one line and a usage line", () => {
    const error = (argv: string[], env = {}) => {
      const parsed = parseStackCommand(argv, env);
      return parsed.kind === "usage-error" ? parsed.message.split("\n").slice(0, 2) : parsed.kind;
    };
    expect(error([])).toEqual(["stack: name a command", ""]);
    expect(error(["upp"])).toEqual(['stack: unknown command "upp"', ""]);
    expect(error(["--timeout", "3"])).toEqual(["stack: name a command before the flags (got --timeout)", ""]);
    expect(error(["help", "nope"])).toEqual(['stack: unknown command "nope"', ""]);
    expect(error(["up", "--delete-data"])).toEqual([
      "stack up: Unknown option '--delete-data'",
      "Usage: npm run stack -- up [SERVICE...] [flags]; npm run stack -- up --help lists them.",
    ]);
    expect(error(["down", "now"])).toEqual([
      "stack down: takes no argument, got now",
      "Usage: npm run stack -- down [flags]; npm run stack -- down --help lists them.",
    ]);
    expect(error(["logs", "a", "b"])[0]).toBe("stack logs: takes at most 1 SERVICE, got a b");
    expect(error(["restore"])[0]).toBe("stack restore: needs DIR");
    expect(error(["scenario"])).toEqual([
      "stack scenario: name a scenario, or --status",
      "Usage: npm run stack -- scenario NAME [flags]; npm run stack -- scenario --help lists them.",
    ]);
    expect(error(["scenario", "stall", "--status"])[0]).toBe("stack scenario: give either a NAME or --status, not both");
    expect(error(["scenario", "bogus"])[0]).toBe(
      'stack scenario: unknown scenario "bogus": one of normal, stall, crash, slow, error-burst, low-throughput, late, hung, empty, volume-drop',
    );
    expect(error(["up", "--timeout", "soon"])).toEqual(["stack up: Bad settings:", '  --timeout="soon": must be a number']);
    expect(error(["status"], { ETL_GRAFANA_PORT: "99999" })).toEqual(["stack status: Bad settings:", '  ETL_GRAFANA_PORT="99999": must be a whole number 1-65535']);
    expect(error(["status"], { ETL_BIND_ADDRESS: "localhost" })).toEqual([
      "stack status: Bad settings:",
      '  ETL_BIND_ADDRESS="localhost": must be an IP address such as 127.0.0.1 or 0.0.0.0',
    ]);
    expect(error(["logs", "--tail", "lots"])[1]).toBe('  --tail="lots": must be a number of lines or all');
    expect(error(["status", "--project", "Etl"])[1]).toBe('  --project="Etl": must be lower-case letters, digits, - and _');
  });
});

