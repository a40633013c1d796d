/**
 * Hosts for tests and the scale benchmark, made of Linux network namespaces: one bridge in the root
 * namespace with an address of its own, and per host a namespace joined to
 * it by a veth pair, each with its own address in a private /24 this module
 * picks (one no route of the machine uses). Cutting a host is
 * `ip link set <its bridge port> down`. Needs root and iproute2.
 *
 * Everything made here has a name unique to this process, and
 * {@linkcode Network.destroy} (also run at exit) removes all of it.
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";

/** One host: a namespace and its address on the bridge. */
export interface Host {
  name: string;
  namespace: string;
  address: string;
  /** The veth end on the bridge, in the root namespace. */
  port: string;
}

/** The network of the hosts. */
export interface Network {
  bridge: string;
  /** The root namespace's address on the bridge (where a center can listen). */
  gateway: string;
  hosts: Host[];
  /** Brings a host's link down (`up: false`) or up again. */
  setLink(host: Host, up: boolean): void;
  /** `ip netns exec` prefix to run a command on a host. */
  exec(host: Host, command: string, args: string[]): [string, string[]];
  destroy(): void;
}

function ip(args: string[]): string {
  const run = spawnSync("ip", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`ip ${args.join(" ")}: ${run.stderr.trim() || `exit ${run.status}`}`);
  return run.stdout;
}

/** True when this process may make namespaces (root, iproute2 present). */
export function canMakeNamespaces(): boolean {
  return process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
}

/** A 10.x.y.0/24 that no route of this machine covers. */
function freeSubnet(): string {
  const routes = ip(["-4", "route", "show", "table", "all"]);
  // A route to the /24 itself, or to the /16 or /8 around it, means it is in use.
  const used = (a: number, b: number) => [`10.${a}.${b}.`, `10.${a}.0.0/16`, "10.0.0.0/8"].some((prefix) => routes.includes(prefix));
  for (let attempt = 0; attempt < 100; attempt++) {
    const a = 200 + Math.floor(Math.random() * 50);
    const b = 1 + Math.floor(Math.random() * 250);
    if (!used(a, b)) return `10.${a}.${b}`;
  }
  throw new Error("no free 10.x.y.0/24 for the test network");
}

/** Makes `names.length` hosts on one bridge. */
export function makeNetwork(names: string[]): Network {
  const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`.slice(-6);
  const subnet = freeSubnet();
  const bridge = `etlbr${tag}`;
  const gateway = `${subnet}.1`;
  const hosts: Host[] = names.map((name, i) => ({
    name,
    namespace: `etl-${tag}-${i + 1}`,
    address: `${subnet}.${11 + i}`,
    port: `etl${tag}p${i + 1}`,
  }));
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    // Deleting a namespace deletes its veth end, and with it the pair.
    for (const h of hosts) spawnSync("ip", ["netns", "delete", h.namespace]);
    for (const h of hosts) spawnSync("ip", ["link", "delete", h.port]);
    spawnSync("ip", ["link", "delete", bridge]);
  };
  process.once("exit", destroy);
  try {
    ip(["link", "add", bridge, "type", "bridge"]);
    ip(["addr", "add", `${gateway}/24`, "dev", bridge]);
    ip(["link", "set", bridge, "up"]);
    for (const h of hosts) {
      ip(["netns", "add", h.namespace]);
      ip(["link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.namespace]);
      ip(["link", "set", h.port, "master", bridge]);
      ip(["link", "set", h.port, "up"]);
      const inNs = (args: string[]) => ip(["-n", h.namespace, ...args]);
      inNs(["addr", "add", `${h.address}/24`, "dev", "eth0"]);
      inNs(["link", "set", "eth0", "up"]);
      inNs(["link", "set", "lo", "up"]);
    }
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    bridge,
    gateway,
    hosts,
    setLink: (host, up) => void ip(["link", "set", host.port, up ? "up" : "down"]),
    exec: (host, command, args) => ["ip", ["netns", "exec", host.namespace, command, ...args]],
    destroy,
  };
}
