/**
 * The published ports as the CLI uses them: the URL of each service, and
 * the checks made before `up` (a port given twice, a port another program
 * holds), each message naming the variable that moves the port.
 *
 * @module
 */
import { type PortKey, portByKey, PUBLISHED_PORTS, type StackPortNumbers } from "./published_ports.ts";

/**
 * The host the CLI connects to for a bind address: loopback when the ports
 * are published on every address, brackets around IPv6.
 *
 * @example
 * ```ts
 * connectHost("0.0.0.0"); // "127.0.0.1"
 * connectHost("::1"); // "[::1]"
 * ```
 */
export function connectHost(bindAddress: string): string {
  if (bindAddress === "0.0.0.0" || bindAddress === "") return "127.0.0.1";
  if (bindAddress === "::") return "[::1]";
  return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
}

/**
 * The URL of each published service, keyed by service name (a port found
 * published by a running container may replace a setting).
 */
export function stackUrls(settings: StackPortNumbers & { bindAddress: string; tls?: boolean }): Record<string, string> {
  const host = connectHost(settings.bindAddress);
  const scheme = settings.tls ? "https" : "http";
  return Object.fromEntries(PUBLISHED_PORTS.map((p) => [p.service, `${scheme}://${host}:${settings[p.key]}${p.path}`]));
}

/** What was found about one port before `up`: whether it could be bound, and whether this stack holds it. */
export interface PortProbe {
  key: PortKey;
  port: number;
  free: boolean;
  heldByStack: boolean;
}

/**
 * Ports given twice: each message names both variables.
 *
 * @example
 * ```ts
 * repeatedPorts({ ...defaultStackSettings(), exporterPort: 3000 });
 * // ["ETL_GRAFANA_PORT and ETL_EXPORTER_PORT are both 3000: give each service its own port"]
 * ```
 */
export function repeatedPorts(ports: Partial<StackPortNumbers>, nameOf: (key: PortKey) => string = (key) => portByKey(key).env): string[] {
  // Only the ports given count: the native stack has no Grafana.
  const given = PUBLISHED_PORTS.filter((p) => ports[p.key] !== undefined);
  const problems: string[] = [];
  given.forEach((a, i) => {
    for (const b of given.slice(i + 1)) {
      if (ports[a.key] === ports[b.key]) problems.push(`${nameOf(a.key)} and ${nameOf(b.key)} are both ${ports[a.key]}: give each service its own port`);
    }
  });
  return problems;
}

/**
 * The messages for ports taken by something other than this stack, each
 * naming the port, its service and the setting to change (`nameOf`: the one
 * that was used, when the caller knows it).
 */
export function takenPorts(
  probes: readonly PortProbe[],
  bindAddress: string,
  nameOf: (key: PortKey) => string = (key) => `${portByKey(key).env} (or --${portByKey(key).flag})`,
): string[] {
  return probes.filter((p) => !p.free && !p.heldByStack).map((p) =>
    `port ${p.port} on ${bindAddress} (${portByKey(p.key).title}) is taken by another program: set ${nameOf(p.key)} to a free port`
  );
}
