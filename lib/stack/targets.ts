/**
 * The file-based target discovery files of `prometheus/targets/`: one JSON
 * file per job, so a single `prometheus.yml` serves every deployment and
 * only these addresses differ.
 *
 * @example
 * ```ts
 * import { renderTargetFiles, LOCAL_ADDRESSES } from "./targets.ts";
 * renderTargetFiles(LOCAL_ADDRESSES)["etl-metrics.json"];
 * // '[{"targets": ["127.0.0.1:8083"], "labels": {"service": "etl-metrics"}}]\n'
 * ```
 * @module
 */

/** The services Prometheus finds through `targets/*.json`. */
export const TARGET_SERVICES = ["etl-metrics", "etl-simulator", "prometheus", "alertmanager"] as const;
/** One of {@linkcode TARGET_SERVICES}. */
export type TargetService = (typeof TARGET_SERVICES)[number];
/** `host:port` of each service, as Prometheus reaches it. */
export type TargetAddresses = Record<TargetService, string>;

/** The native stack on this machine (`npm run stack:local`), default ports. */
export const LOCAL_ADDRESSES: TargetAddresses = {
  "etl-metrics": "127.0.0.1:8083",
  "etl-simulator": "127.0.0.1:8000",
  prometheus: "127.0.0.1:9090",
  alertmanager: "127.0.0.1:9093",
};

/** The Compose stack: service names on the Compose network; Prometheus scrapes itself on localhost. */
export const COMPOSE_ADDRESSES: TargetAddresses = {
  "etl-metrics": "etl-metrics:8083",
  "etl-simulator": "etl-simulator:8000",
  prometheus: "localhost:9090",
  alertmanager: "alertmanager:9093",
};

/** The content of each `targets/<service>.json`, by file name. */
export function renderTargetFiles(addresses: TargetAddresses): Record<string, string> {
  const files: Record<string, string> = {};
  for (const service of TARGET_SERVICES) {
    files[`${service}.json`] = `[{"targets": ["${addresses[service]}"], "labels": {"service": "${service}"}}]\n`;
  }
  return files;
}
