import { spawnSync } from "node:child_process";
import { createServer, type Server, Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { canMakeNamespaces, makeNetwork, type Network } from "./netns.ts";

const required = process.env.CI === "true";
const available = canMakeNamespaces();

/** True when a TCP connection to `host:port` opens within `timeoutMs`. */
function connects(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
    socket.connect(port, host);
  });
}

describe.skipIf(!available && !required)("network namespaces as hosts (root, iproute2)", () => {
  let network: Network | undefined;
  let server: Server | undefined;
  afterAll(() => {
    server?.close();
    network?.destroy();
  });

  it("gives each host its own address, reachable from the root namespace, and cuts and restores one link", async () => {
    network = makeNetwork(["a", "b"]);
    const [a, b] = network.hosts;
    expect(new Set(network.hosts.map((h) => h.address)).size).toBe(2);
    expect(a!.address.split(".").slice(0, 3)).toEqual(network.gateway.split(".").slice(0, 3));
    // A listener on the gateway address stands for a center the hosts write to.
    server = createServer((s) => s.end());
    await new Promise<void>((done) => server!.listen(0, network!.gateway, done));
    const port = (server.address() as { port: number }).port;
    const probe = (host: typeof a) =>
      spawnSync(...network!.exec(host!, process.execPath, ["-e", `require("net").connect(${port}, "${network!.gateway}").on("connect", () => process.exit(0)).on("error", () => process.exit(1)); setTimeout(() => process.exit(2), 1500)`]));
    expect(probe(a).status).toBe(0);
    expect(probe(b).status).toBe(0);
    network.setLink(a!, false);
    expect(probe(a).status).not.toBe(0);
    expect(probe(b).status).toBe(0);
    network.setLink(a!, true);
    expect(probe(a).status).toBe(0);
    expect(await connects(network.gateway, port)).toBe(true);
  }, 30_000);

  it("removes every namespace and link it made", () => {
    const made = network!;
    made.destroy();
    const namespaces = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    const links = spawnSync("ip", ["-br", "link"], { encoding: "utf8" }).stdout;
    for (const h of made.hosts) {
      expect(namespaces).not.toContain(h.namespace);
      expect(links).not.toContain(h.port);
    }
    expect(links).not.toContain(made.bridge);
  });
});
