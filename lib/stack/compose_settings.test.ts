import { describe, expect, it } from "vitest";
import {
  COMMAND_SETTINGS,
  commandHelp,
  connectHost,
  defaultStackSettings,
  GLOBAL_SETTINGS,
  parseStackCommand,
  portOf,
  PUBLISHED_PORTS,
  readySummary,
  repeatedPorts,
  STACK_COMMANDS,
  STACK_SERVICES,
  STACK_USAGE,
  stackUrls,
  takenPorts,
} from "./compose_settings.ts";

const DEFAULTS = {
  secretsDir: undefined,
  bindAddress: "127.0.0.1",
  grafanaPort: 3000,
  prometheusPort: 9090,
  alertmanagerPort: 9093,
  exporterPort: 8083,
  simulatorPort: 8000,
  receiverPort: 9095,
  compose: undefined,
  composeFile: undefined,
  project: "etl-monitoring",
  timeout: 300,
  deleteData: false,
  follow: false,
  tail: "100",
  status: false,
  image: "etl-monitoring/etl-metrics:0.1.0",
};

describe("the settings table", () => {
  it("has every published port of the contract, with its variable and default", () => {
    expect(PUBLISHED_PORTS.map((p) => [p.service, p.env, p.defaultPort, p.containerPort])).toEqual([
      ["grafana", "ETL_GRAFANA_PORT", 3000, 3000],
      ["prometheus", "ETL_PROMETHEUS_PORT", 9090, 9090],
      ["alertmanager", "ETL_ALERTMANAGER_PORT", 9093, 9093],
      ["etl-metrics", "ETL_EXPORTER_PORT", 8083, 8083],
      ["etl-simulator", "ETL_SIMULATOR_PORT", 8000, 8000],
      ["etl-alert-receiver", "ETL_RECEIVER_PORT", 9095, 9095],
    ]);
    for (const p of PUBLISHED_PORTS) expect(STACK_SERVICES).toContain(p.service);
    expect(portOf("prometheus")?.key).toBe("prometheusPort");
    expect(portOf("etl-secrets-init")).toBeUndefined();
  });

  it("gives every setting a flag, a help line and a default text; every global one a variable", () => {
    for (const s of Object.values({ ...GLOBAL_SETTINGS, ...COMMAND_SETTINGS })) {
      expect(s.flag).toMatch(/^[a-z][a-z-]+$/);
      expect(s.help).toMatch(/\.$/);
      expect(s.defaultText).not.toBe("");
    }
    for (const s of Object.values(GLOBAL_SETTINGS)) expect(s.env).toMatch(/^ETL_[A-Z_]+$/);
  });

  it("defaults to the contract's values", () => {
    expect(defaultStackSettings()).toEqual(DEFAULTS);
  });
});

describe("parseStackCommand", () => {
  it("reads the command, its arguments, flags anywhere after it, and the environment", () => {
    expect(parseStackCommand(["up", "grafana", "--timeout", "60", "prometheus"], { ETL_GRAFANA_PORT: "3001", ETL_BIND_ADDRESS: "0.0.0.0" })).toEqual({
      kind: "run",
      command: "up",
      args: ["grafana", "prometheus"],
      settings: { ...DEFAULTS, grafanaPort: 3001, bindAddress: "0.0.0.0", timeout: 60 },
    });
    expect(parseStackCommand(["logs", "--follow", "--tail=all", "grafana"], {})).toEqual({
      kind: "run",
      command: "logs",
      args: ["grafana"],
      settings: { ...DEFAULTS, follow: true, tail: "all" },
    });
    expect(parseStackCommand(["down", "--delete-data", "--secrets-dir", "/s"], { ETL_COMPOSE: "docker-compose" })).toEqual({
      kind: "run",
      command: "down",
      args: [],
      settings: { ...DEFAULTS, deleteData: true, secretsDir: "/s", compose: "docker-compose" },
    });
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
    expect(error(["up", "--timeout", "soon"])).toEqual(["stack up: Bad settings:", '  --timeout="soon": must be a number']);
    expect(error(["status"], { ETL_GRAFANA_PORT: "99999" })).toEqual(["stack status: Bad settings:", '  ETL_GRAFANA_PORT="99999": must be 1-65535']);
    expect(error(["status"], { ETL_BIND_ADDRESS: "localhost" })).toEqual([
      "stack status: Bad settings:",
      '  ETL_BIND_ADDRESS="localhost": must be an IP address such as 127.0.0.1 or 0.0.0.0',
    ]);
    expect(error(["logs", "--tail", "lots"])[1]).toBe('  --tail="lots": must be a number of lines or all');
    expect(error(["status", "--project", "Etl"])[1]).toBe('  --project="Etl": must be lower-case letters, digits, - and _');
  });
});

describe("help texts", () => {
  it("list every command with its summary", () => {
    for (const [name, spec] of Object.entries(STACK_COMMANDS)) {
      expect(STACK_USAGE).toContain(`  ${spec.usage.split(" | ")[0]!.padEnd(18)} ${spec.summary}\n`);
      expect(name).toMatch(/^[a-z-]+$/);
    }
  });

  it("give each command's flags and then the settings of every command", () => {
    const help = commandHelp("logs");
    expect(help.split("\n").slice(0, 8)).toEqual([
      "Usage: npm run stack -- logs [SERVICE] [flags]",
      "",
      "Prints the logs of every service, or of SERVICE (compose logs).",
      "",
      "Flags (flag, environment variable, default):",
      "  --follow",
      "      Keep printing new lines until Ctrl-C. Default: off.",
      "  --tail VALUE",
    ]);
    expect(help).toContain("Settings of every command:\n  --secrets-dir VALUE  (ETL_SECRETS_DIR)\n");
    expect(commandHelp("scenario").split("\n").slice(0, 2)).toEqual([
      "Usage: npm run stack -- scenario NAME [flags]",
      "       npm run stack -- scenario --status [flags]",
    ]);
    expect(commandHelp("status")).not.toContain("Flags (");
  });
});

describe("URLs and hosts", () => {
  it("connects to loopback when the ports are published everywhere", () => {
    expect(connectHost("127.0.0.1")).toBe("127.0.0.1");
    expect(connectHost("0.0.0.0")).toBe("127.0.0.1");
    expect(connectHost("10.1.2.3")).toBe("10.1.2.3");
    expect(connectHost("::")).toBe("[::1]");
    expect(connectHost("::1")).toBe("[::1]");
  });

  it("gives each published service its URL", () => {
    expect(stackUrls({ ...defaultStackSettings(), prometheusPort: 19090, bindAddress: "0.0.0.0" })).toEqual({
      grafana: "http://127.0.0.1:3000/",
      prometheus: "http://127.0.0.1:19090/",
      alertmanager: "http://127.0.0.1:9093/",
      "etl-metrics": "http://127.0.0.1:8083/metrics",
      "etl-simulator": "http://127.0.0.1:8000/metrics",
      "etl-alert-receiver": "http://127.0.0.1:9095/notifications",
    });
  });
});

describe("port checks", () => {
  it("finds a port given to two services", () => {
    expect(repeatedPorts(defaultStackSettings())).toEqual([]);
    expect(repeatedPorts({ ...defaultStackSettings(), exporterPort: 3000, receiverPort: 3000 })).toEqual([
      "ETL_GRAFANA_PORT and ETL_EXPORTER_PORT are both 3000: give each service its own port",
      "ETL_GRAFANA_PORT and ETL_RECEIVER_PORT are both 3000: give each service its own port",
      "ETL_EXPORTER_PORT and ETL_RECEIVER_PORT are both 3000: give each service its own port",
    ]);
  });

  it("names a port taken by another program and the variable that moves it, not one this stack holds", () => {
    expect(takenPorts([
      { key: "grafanaPort", port: 3000, free: false, heldByStack: true },
      { key: "prometheusPort", port: 9090, free: false, heldByStack: false },
      { key: "exporterPort", port: 8083, free: true, heldByStack: false },
    ], "0.0.0.0")).toEqual([
      "port 9090 on 0.0.0.0 (Prometheus) is taken by another program: set ETL_PROMETHEUS_PORT (or --prometheus-port) to a free port",
    ]);
  });
});

describe("readySummary", () => {
  it("prints the URLs started and who opens what with which file, never a password", () => {
    expect(readySummary({
      project: "etl-monitoring",
      urls: { prometheus: "http://127.0.0.1:9090/", grafana: "http://127.0.0.1:3000/" },
      bindAddress: "127.0.0.1",
      credentials: [
        { opens: "Grafana", user: "admin", passwordFile: "secrets/grafana_admin_password" },
        { opens: "Prometheus's HTTP API (queries)", user: "readonly", passwordFile: "secrets/prometheus_readonly_password" },
        { opens: "the simulator's `/metrics`", user: "metrics", passwordFile: "secrets/metrics_password" },
      ],
      reference: "secrets/CREDENTIALS.md",
    })).toEqual([
      "The stack is up (project etl-monitoring):",
      "  Grafana     http://127.0.0.1:3000/",
      "  Prometheus  http://127.0.0.1:9090/",
      "",
      "Credentials (user, the file holding the password, what it opens; passwords are never printed):",
      "  admin     secrets/grafana_admin_password        Grafana",
      "  readonly  secrets/prometheus_readonly_password  Prometheus's HTTP API (queries)",
      "  metrics   secrets/metrics_password              the simulator's /metrics",
      "Reference: secrets/CREDENTIALS.md",
    ]);
  });

  it("warns when the ports are exposed beyond this machine", () => {
    const lines = readySummary({ project: "p", urls: {}, bindAddress: "0.0.0.0", credentials: [], reference: "r" });
    expect(lines.at(-1)).toBe(
      "Published on 0.0.0.0: Alertmanager and the exporter ask for no password, and nothing is TLS; put a proxy with TLS in front.",
    );
  });
});
