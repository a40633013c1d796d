/**
 * The ports the Compose stack publishes on the host (the `ETL_*_PORT`
 * variables of `deploy/compose/docker-compose.yml`): one row per port, read
 * by the settings, the Compose environment, the URLs and the port checks.
 *
 * @module
 */
import type { StackService } from "./compose_project.ts";

/** The settings key of each published port. */
export type PortKey = "grafanaPort" | "prometheusPort" | "alertmanagerPort" | "exporterPort" | "simulatorPort" | "receiverPort";

/** The host ports of the stack, by settings key. */
export type StackPortNumbers = Record<PortKey, number>;

/** A port the stack publishes: the variable and flag that move it, the service behind it and the page worth opening there. */
export interface PublishedPort {
  key: PortKey;
  env: string;
  flag: string;
  service: StackService;
  title: string;
  defaultPort: number;
  containerPort: number;
  /** Appended to `http://host:port` in the URL printed after `up`. */
  path: string;
}

/** Every port the stack publishes, in the order the URLs are printed. */
export const PUBLISHED_PORTS: readonly PublishedPort[] = [
  { key: "grafanaPort", env: "ETL_GRAFANA_PORT", flag: "grafana-port", service: "grafana", title: "Grafana", defaultPort: 3000, containerPort: 3000, path: "/" },
  { key: "prometheusPort", env: "ETL_PROMETHEUS_PORT", flag: "prometheus-port", service: "prometheus", title: "Prometheus", defaultPort: 9090, containerPort: 9090, path: "/" },
  { key: "alertmanagerPort", env: "ETL_ALERTMANAGER_PORT", flag: "alertmanager-port", service: "alertmanager", title: "Alertmanager", defaultPort: 9093, containerPort: 9093, path: "/" },
  { key: "exporterPort", env: "ETL_EXPORTER_PORT", flag: "exporter-port", service: "etl-metrics", title: "exporter", defaultPort: 8083, containerPort: 8083, path: "/metrics" },
  { key: "simulatorPort", env: "ETL_SIMULATOR_PORT", flag: "simulator-port", service: "etl-simulator", title: "simulator", defaultPort: 8000, containerPort: 8000, path: "/metrics" },
  { key: "receiverPort", env: "ETL_RECEIVER_PORT", flag: "receiver-port", service: "etl-alert-receiver", title: "alert receiver", defaultPort: 9095, containerPort: 9095, path: "/notifications" },
];

/** The published port of `service`, if it has one (`etl-secrets-init` has none). */
export function portOf(service: string): PublishedPort | undefined {
  return PUBLISHED_PORTS.find((p) => p.service === service);
}

/** The row of a settings key. */
export function portByKey(key: PortKey): PublishedPort {
  return PUBLISHED_PORTS.find((p) => p.key === key)!;
}
