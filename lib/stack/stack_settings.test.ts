import { describe, expect, it } from "vitest";
import { COMMAND_SETTINGS, defaultStackSettings, GLOBAL_SETTINGS } from "./stack_settings.ts";

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
  tls: false,
  project: "etl-monitoring",
  timeout: 300,
  deleteData: false,
  follow: false,
  tail: "100",
  status: false,
  image: "etl-monitoring/etl-metrics:0.1.0",
};

describe("the settings table", () => {
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

