/**
 * The settings of `npm run stack:local` (the native stack): where its
 * secrets and run folder are, the simulator's speed, and one port per
 * service, each a flag and a variable as the Compose stack names them
 * (`--prometheus-port`, `ETL_PROMETHEUS_PORT`), parsed once by zod.
 *
 * @module
 */
import * as z from "zod";
import { type AlertParams, alertParamsForSpeed, PRODUCTION_ALERT_PARAMS } from "../alerts/rules.ts";
import { boundedNumber, type SettingsOf, type SettingsSpec } from "../config/settings.ts";
import type { PortKey } from "./published_ports.ts";
import { portSetting } from "./stack_settings.ts";

/** The services of the native stack and the settings key of each one's port. */
export const NATIVE_PORT_KEYS = {
  exporter: "exporterPort",
  simulator: "simulatorPort",
  receiver: "receiverPort",
  prometheus: "prometheusPort",
  alertmanager: "alertmanagerPort",
} as const satisfies Record<string, PortKey>;

/** A service of the native stack. */
export type NativeService = keyof typeof NATIVE_PORT_KEYS;

/** Every setting of `npm run stack:local`. */
export const LOCAL_STACK_SETTINGS = {
  secretsDir: {
    env: "ETL_SECRETS_DIR",
    flag: "secrets-dir",
    help: "The secrets folder (npm run secrets); created with every credential when missing.",
    defaultText: "secrets",
    schema: z.string().min(1, "must not be empty").default("secrets"),
  },
  runDir: {
    env: "ETL_STACK_DIR",
    flag: "run-dir",
    help: "Folder of the stack's configuration copies, data (kept between runs) and logs.",
    defaultText: ".stack",
    schema: z.string().min(1, "must not be empty").default(".stack"),
  },
  tls: {
    flag: "tls",
    help: "Everything over HTTPS with the local CA of npm run secrets (curl --cacert secrets/ca.crt); certificates are made when missing.",
    defaultText: "off",
    boolean: true,
    schema: z.boolean().default(false),
  },
  speed: {
    env: "ETL_SPEED",
    flag: "speed",
    help: "Time compression of the simulator: 60 simulates a minute per second. Above 1, Prometheus scrapes more often and " +
      "gets the rules scaled to the speed (thresholds, windows, for:); Alertmanager's timings and the exporter's staleness limit stay.",
    defaultText: "1 (the production rules)",
    // Below 1 the production rules would page for a slow simulator: the rules only scale down.
    schema: boundedNumber(1, 10_000).default(1),
  },
  exporterPort: portSetting("exporterPort"),
  simulatorPort: portSetting("simulatorPort"),
  receiverPort: portSetting("receiverPort"),
  prometheusPort: portSetting("prometheusPort"),
  alertmanagerPort: portSetting("alertmanagerPort"),
} satisfies SettingsSpec;

/** The parsed settings of `npm run stack:local`. */
export type LocalStackSettings = SettingsOf<typeof LOCAL_STACK_SETTINGS>;

/** The first lines of `npm run stack:local -- --help`. */
export const LOCAL_STACK_USAGE = `Usage: npm run stack:local -- [flags]     (flags after --, or npm takes them as its own)

Starts the simulator, exporter, alert receiver, Alertmanager and Prometheus on 127.0.0.1 without Docker;
Ctrl-C stops them. A taken port is named before anything starts. Other simulator variables
(ETL_SEED, ETL_SCENARIO) pass through to it.

Settings (flag, environment variable, default):`;

/** The port of each service, by service. */
export function nativePorts(settings: Pick<LocalStackSettings, (typeof NATIVE_PORT_KEYS)[NativeService]>): Record<NativeService, number> {
  return Object.fromEntries(Object.entries(NATIVE_PORT_KEYS).map(([service, key]) => [service, settings[key]])) as Record<NativeService, number>;
}

/** How Prometheus runs for a simulator speed: the rules' parameters, and its intervals when not prometheus.yml's. */
export interface TimeScale {
  alertParams: AlertParams;
  scrapeInterval?: string;
  evaluationInterval?: string;
}

/**
 * The production rules and prometheus.yml's intervals at speed 1; above
 * it, scrapes every 15/speed s (at least 1 s) and rules scaled as the
 * alerting test scales them.
 *
 * @example
 * ```ts
 * timeScaleFor(10).scrapeInterval; // "1s"
 * timeScaleFor(1); // { alertParams: PRODUCTION_ALERT_PARAMS }
 * ```
 */
export function timeScaleFor(speed: number): TimeScale {
  const production = PRODUCTION_ALERT_PARAMS.scrapeIntervalSeconds;
  if (speed === 1) return { alertParams: PRODUCTION_ALERT_PARAMS };
  const seconds = Math.max(1, Math.floor(production / speed));
  return {
    alertParams: alertParamsForSpeed(speed, { scrapeIntervalSeconds: seconds }),
    scrapeInterval: `${seconds}s`,
    evaluationInterval: `${seconds}s`,
  };
}
