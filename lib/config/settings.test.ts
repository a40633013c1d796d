import { describe, expect, it } from "vitest";
import { COMMON_SETTINGS, INGEST_LIMIT_SETTINGS, parseSettings } from "./settings.ts";

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
    });
  });

  it("reads environment variables, and a flag wins over its variable", () => {
    const result = parseSettings(COMMON_SETTINGS, { ETL_SPEED: "60", EXPORTER_PORT: "9000" }, ["--exporter-port", "9100"]);
    expect(result.ok && result.values.speed).toBe(60);
    expect(result.ok && result.values.exporterPort).toBe(9100);
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
    expect(result.message).toContain('ETL_SPEED="fast": must be a number');
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

describe("INGEST_LIMIT_SETTINGS", () => {
  it("default to 500 pipelines and 300 s ahead, and refuse nonsense naming the setting", () => {
    expect(parseSettings(INGEST_LIMIT_SETTINGS, {}, [])).toEqual({ ok: true, values: { maxPipelines: 500, maxClockAheadSeconds: 300 } });
    const flags = parseSettings(INGEST_LIMIT_SETTINGS, { ETL_MAX_PIPELINES: "20" }, ["--max-clock-ahead-seconds", "30"]);
    expect(flags).toEqual({ ok: true, values: { maxPipelines: 20, maxClockAheadSeconds: 30 } });
    const bad = parseSettings(INGEST_LIMIT_SETTINGS, { ETL_MAX_PIPELINES: "0", ETL_MAX_CLOCK_AHEAD_SECONDS: "-1" }, []);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.message).toContain('ETL_MAX_PIPELINES="0"');
      expect(bad.message).toContain('ETL_MAX_CLOCK_AHEAD_SECONDS="-1"');
    }
  });
});
