import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { boundedNumber, COMMON_SETTINGS, defaultsOf, flagsNpmTook, INGEST_LIMIT_SETTINGS, LOG_LEVELS, parseSettings, settingName } from "./settings.ts";

describe("parseSettings", () => {
  it("gives the documented defaults", () => {
    const result = parseSettings(COMMON_SETTINGS, {}, []);
    expect(result).toEqual({
      ok: true,
      values: {
        dataDir: "./data",
        speed: 1,
        exporterPort: 8083,
        simulatorPort: 8000,
        host: "127.0.0.1",
        metricsUser: "metrics",
        metricsPasswordFile: undefined,
        logLevel: "info",
      },
      sources: Object.fromEntries(Object.keys(COMMON_SETTINGS).map((key) => [key, "default"])),
    });
  });

  it("reads environment variables, and a flag wins over its variable", () => {
    const result = parseSettings(COMMON_SETTINGS, { ETL_SPEED: "60", EXPORTER_PORT: "9000" }, ["--exporter-port", "9100"]);
    expect(result.ok && result.values.speed).toBe(60);
    expect(result.ok && result.values.exporterPort).toBe(9100);
    expect(result.ok && [result.sources.speed, result.sources.exporterPort, result.sources.host]).toEqual(["env", "flag", "default"]);
  });

  it("names in advice the setting that was used", () => {
    const port = COMMON_SETTINGS.exporterPort;
    expect(settingName(port, "flag")).toBe("--exporter-port");
    expect(settingName(port, "env")).toBe("EXPORTER_PORT");
    expect(settingName(port, "default")).toBe("--exporter-port (or EXPORTER_PORT)");
  });

  it("treats an empty variable as unset", () => {
    const result = parseSettings(COMMON_SETTINGS, { ETL_DATA_DIR: "" }, []);
    expect(result.ok && result.values.dataDir).toBe("./data");
  });

  it("names every bad setting and its value", () => {
    const result = parseSettings(COMMON_SETTINGS, { ETL_SPEED: "fast", SIMULATOR_PORT: "70000" }, ["--log-level", "loud"]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.help).toBe(false);
    expect(result.message).toContain('ETL_SPEED="fast": must be a number above 0, at most 10000');
    expect(result.message).toContain('SIMULATOR_PORT="70000": must be a whole number 1-65535');
    expect(result.message).toContain('SIMULATOR_PORT="70000"');
    expect(result.message).toContain('--log-level="loud"');
  });

  it("rejects an unknown flag with a hint", () => {
    const result = parseSettings(COMMON_SETTINGS, {}, ["--sped", "2"]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/Unknown option '--sped'[\s\S]*--help/);
  });

  it("lists every flag with its variable and default on --help", () => {
    const result = parseSettings(COMMON_SETTINGS, {}, ["--help"]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.help).toBe(true);
    for (const s of Object.values(COMMON_SETTINGS)) {
      expect(result.message).toContain(`--${s.flag} VALUE  (${s.env})`);
      expect(result.message).toContain(`Default: ${s.defaultText}.`);
    }
  });
});

describe("bounds in every message", () => {
  it.each([
    [["--exporter-port", "70000"], '--exporter-port="70000": must be a whole number 1-65535'],
    [["--simulator-port", "0"], '--simulator-port="0": must be a whole number 1-65535'],
    [["--simulator-port", "80.5"], '--simulator-port="80.5": must be a whole number 1-65535'],
    [["--speed", "0"], '--speed="0": must be a number above 0, at most 10000'],
    [["--speed", "-1"], '--speed="-1": must be a number above 0, at most 10000'],
  ])("%j says %s", (argv, message) => {
    const result = parseSettings(COMMON_SETTINGS, {}, argv);
    expect(result).toEqual({ ok: false, help: false, message: `Bad settings:\n  ${message}` });
  });

  it("takes a negative number after a flag as its value, so the range check answers it", () => {
    const spec = { events: { flag: "events", help: "", defaultText: "", schema: boundedNumber(1, 1e9, { integer: true }).optional() } };
    const separate = parseSettings(spec, {}, ["--events", "-5"]);
    const joined = parseSettings(spec, {}, ["--events=-5"]);
    expect(separate).toEqual({ ok: false, help: false, message: 'Bad settings:\n  --events="-5": must be a whole number 1-1000000000' });
    expect(joined).toEqual(separate);
    // A flag after a flag is still a flag, not a value.
    expect(parseSettings({ ...COMMON_SETTINGS, ...spec }, {}, ["--events", "--help"]).ok).toBe(false);
  });

  it("accepts exactly the numbers within the bounds (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -3000, max: 3000 }), (a, b, n) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const parsed = boundedNumber(min, max, { integer: true }).safeParse(String(n));
        expect(parsed.success).toBe(n >= min && n <= max);
        if (!parsed.success) expect(z.prettifyError(parsed.error)).toContain(`must be a whole number ${min}-${max}`);
      }),
    );
  });
});

describe("--log-level", () => {
  it("accepts the log contract's levels, warn included", () => {
    for (const level of LOG_LEVELS) {
      const result = parseSettings(COMMON_SETTINGS, {}, ["--log-level", level]);
      expect(result.ok && result.values.logLevel).toBe(level);
    }
    expect(LOG_LEVELS).toEqual(["debug", "info", "warn", "error"]);
  });

  it("reads LogTape's spelling warning as warn", () => {
    const result = parseSettings(COMMON_SETTINGS, { ETL_LOG_LEVEL: "warning" }, []);
    expect(result.ok && result.values.logLevel).toBe("warn");
  });

  it("gives the same list in the error and in --help", () => {
    const bad = parseSettings(COMMON_SETTINGS, {}, ["--log-level", "trace"]);
    expect(bad).toEqual({ ok: false, help: false, message: 'Bad settings:\n  --log-level="trace": must be one of debug, info, warn, error' });
    const help = parseSettings(COMMON_SETTINGS, {}, ["--help"]);
    expect(!help.ok && help.message).toContain("Level of the workers' own logs: debug, info, warn, error. Default: info.");
  });
});

describe("INGEST_LIMIT_SETTINGS", () => {
  it("default to 500 pipelines and 300 s ahead, and refuse nonsense naming the setting", () => {
    expect(parseSettings(INGEST_LIMIT_SETTINGS, {}, [])).toEqual({
      ok: true,
      values: { maxPipelines: 500, maxClockAheadSeconds: 300 },
      sources: { maxPipelines: "default", maxClockAheadSeconds: "default" },
    });
    const flags = parseSettings(INGEST_LIMIT_SETTINGS, { ETL_MAX_PIPELINES: "20" }, ["--max-clock-ahead-seconds", "30"]);
    expect(flags).toEqual({
      ok: true,
      values: { maxPipelines: 20, maxClockAheadSeconds: 30 },
      sources: { maxPipelines: "env", maxClockAheadSeconds: "flag" },
    });
    const bad = parseSettings(INGEST_LIMIT_SETTINGS, { ETL_MAX_PIPELINES: "0", ETL_MAX_CLOCK_AHEAD_SECONDS: "-1" }, []);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.message).toContain('ETL_MAX_PIPELINES="0": must be a whole number 1-100000');
      expect(bad.message).toContain('ETL_MAX_CLOCK_AHEAD_SECONDS="-1": must be a number 0-86400');
    }
  });
});

describe("flags npm kept", () => {
  it("finds the flags of a table npm took as its own under npm run", () => {
    const env = { npm_lifecycle_event: "dev", npm_config_speed: "true", npm_config_exporter_port: "true", npm_config_cache: "/root/.npm" };
    expect(flagsNpmTook(COMMON_SETTINGS, env)).toEqual(["speed", "exporter-port"]);
    expect(flagsNpmTook(COMMON_SETTINGS, { npm_config_speed: "true" })).toEqual([]);
    expect(parseSettings(COMMON_SETTINGS, env, ["10"])).toEqual({
      ok: false,
      help: false,
      message: "npm took --speed, --exporter-port as its own setting, so it never reached this command: put the flags after --, as in npm run dev -- --speed VALUE",
    });
  });

  it("gives every default", () => {
    expect(defaultsOf(COMMON_SETTINGS)).toMatchObject({ exporterPort: 8083, simulatorPort: 8000, speed: 1, logLevel: "info", metricsPasswordFile: undefined });
  });
});
