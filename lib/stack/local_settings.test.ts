import { describe, expect, it } from "vitest";
import { alertParamsForSpeed, PRODUCTION_ALERT_PARAMS } from "../alerts/rules.ts";
import { defaultsOf, parseSettings } from "../config/settings.ts";
import { LOCAL_STACK_SETTINGS, LOCAL_STACK_USAGE, nativePorts, timeScaleFor } from "./local_settings.ts";

const parse = (env: Record<string, string>, argv: string[]) => parseSettings(LOCAL_STACK_SETTINGS, env, argv, LOCAL_STACK_USAGE);

describe("stack:local settings", () => {
  it("defaults to the Compose stack's ports, speed 1, plain HTTP, secrets/ and .stack/", () => {
    const values = defaultsOf(LOCAL_STACK_SETTINGS);
    expect(values).toEqual({
      secretsDir: "secrets", runDir: ".stack", speed: 1, tls: false,
      exporterPort: 8083, simulatorPort: 8000, receiverPort: 9095, prometheusPort: 9090, alertmanagerPort: 9093,
    });
    expect(nativePorts(values)).toEqual({ exporter: 8083, simulator: 8000, receiver: 9095, prometheus: 9090, alertmanager: 9093 });
  });

  it("reads ETL_SPEED and each port's variable, a flag winning over its variable", () => {
    const result = parse({ ETL_SPEED: "10", ETL_PROMETHEUS_PORT: "19090", ETL_EXPORTER_PORT: "18083" }, ["--exporter-port", "28083"]);
    expect(result).toMatchObject({
      ok: true,
      values: { speed: 10, prometheusPort: 19090, exporterPort: 28083 },
      sources: { speed: "env", prometheusPort: "env", exporterPort: "flag", simulatorPort: "default" },
    });
  });

  it("refuses a speed under 1, an unknown flag and a stray argument, saying why", () => {
    expect(parse({ ETL_SPEED: "0.5" }, [])).toEqual({ ok: false, help: false, message: 'Bad settings:\n  ETL_SPEED="0.5": must be a number 1-10000' });
    expect(parse({}, ["--bogus"])).toMatchObject({ ok: false, help: false, message: expect.stringContaining("Unknown option '--bogus'") });
    expect(parse({}, ["10"])).toMatchObject({ ok: false, help: false, message: expect.stringContaining("Unexpected argument '10'") });
  });

  it("lists every setting in --help", () => {
    const result = parse({}, ["--help"]);
    expect(result.ok).toBe(false);
    const message = (result as { message: string }).message;
    for (const flag of ["secrets-dir", "run-dir", "speed", "exporter-port", "simulator-port", "receiver-port", "prometheus-port", "alertmanager-port"]) {
      expect(message).toContain(`--${flag} VALUE`);
    }
    expect(message).toContain("--prometheus-port VALUE  (ETL_PROMETHEUS_PORT)\n      Host port of Prometheus (prometheus). Default: 9090.");
  });
});

describe("time scale", () => {
  it("keeps the production rules and prometheus.yml's intervals at speed 1", () => {
    expect(timeScaleFor(1)).toEqual({ alertParams: PRODUCTION_ALERT_PARAMS });
  });

  it("scales the rules as the alerting test does, scraping every 15/speed s but at least every second", () => {
    expect(timeScaleFor(10)).toEqual({ alertParams: alertParamsForSpeed(10, { scrapeIntervalSeconds: 1 }), scrapeInterval: "1s", evaluationInterval: "1s" });
    expect(timeScaleFor(3)).toEqual({ alertParams: alertParamsForSpeed(3, { scrapeIntervalSeconds: 5 }), scrapeInterval: "5s", evaluationInterval: "5s" });
    expect(timeScaleFor(2).scrapeInterval).toBe("7s");
    expect(timeScaleFor(60).alertParams.lowThroughput.threshold).toBe(60);
  });
});
