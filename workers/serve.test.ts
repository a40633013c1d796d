import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { listenFailure, serveFetch } from "./serve.ts";

const OPTIONS = { port: 8083, hostname: "127.0.0.1", portSetting: "--exporter-port", hostSetting: "ETL_HOST" };

describe("serveFetch", () => {
  it("serves on the port it was given and closes", async () => {
    const server = await serveFetch(() => new Response("hi"), { port: 0, hostname: "127.0.0.1" });
    expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe("hi");
    await server.close();
  });

  it("rejects a taken port with Node's EADDRINUSE, which listenFailure names", async () => {
    const taken = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const error = await serveFetch(() => new Response(""), { port, hostname: "127.0.0.1" }).catch((e: unknown) => e);
      expect(listenFailure(error, { ...OPTIONS, port })).toEqual({
        message: `cannot listen on 127.0.0.1:${port}: the port is in use (another copy running?); set --exporter-port to another port`,
        exitCode: 1,
      });
    } finally {
      taken.close();
    }
  });
});

describe("listenFailure", () => {
  it.each([
    [{ code: "EADDRNOTAVAIL" }, 2],
    [{ code: "ENOTFOUND" }, 2],
    [{ name: "AddrNotAvailable" }, 2],
    [Object.assign(new Error("failed to lookup address information: Name or service not known"), { name: "Error" }), 2],
  ])("tells a host that is not this machine's (%o) from a busy port", (error, exitCode) => {
    expect(listenFailure(error, { ...OPTIONS, hostname: "999.1.1.1" })).toEqual({
      message: "cannot listen on 999.1.1.1:8083: 999.1.1.1 is not an address of this machine; set ETL_HOST to one that is (127.0.0.1, or 0.0.0.0 for every interface)",
      exitCode,
    });
  });

  it("names privileges for a low port, and passes anything else through", () => {
    expect(listenFailure({ code: "EACCES" }, { ...OPTIONS, port: 80 }).message).toBe(
      "cannot listen on 127.0.0.1:80: permission denied (ports below 1024 need privileges); set --exporter-port to another port",
    );
    expect(listenFailure(new Error("boom"), OPTIONS)).toEqual({ message: "cannot listen on 127.0.0.1:8083: boom", exitCode: 1 });
  });
});
