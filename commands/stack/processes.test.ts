import { createServer } from "node:http";
import process from "node:process";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, freePort, tempDir } from "../../tests/harness.ts";
import { ProcessGroup, type UnexpectedExit } from "./processes.ts";

const dirs: string[] = [];
const groups: ProcessGroup[] = [];
afterEach(async () => {
  for (const group of groups.splice(0)) await group.stopAll(1_000);
  cleanup(dirs);
});

function group(): ProcessGroup {
  const dir = tempDir("etl-group-");
  dirs.push(dir);
  const g = new ProcessGroup(dir);
  groups.push(g);
  return g;
}

/** A node process serving 200 on `port` until stopped. */
const server = (port: number) => ["-e", `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1")`];

describe("ProcessGroup", () => {
  it("fails a wait when another part of the group stops by itself meanwhile, naming it and its log", async () => {
    const g = group();
    const exits: UnexpectedExit[] = [];
    g.onUnexpectedExit = (exit) => void exits.push(exit);
    const before = g.unexpectedExits.length;
    const early = g.start("early", process.execPath, ["-e", "setTimeout(() => process.exit(4), 200)"]);
    g.start("late", process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    await expect(g.waitHttp("late", `http://127.0.0.1:${await freePort()}/`, undefined, 10_000, before)).rejects.toThrow(
      `early stopped while late was starting (exit code 4); see ${early.logFile}`,
    );
    expect(exits).toEqual([{ name: "early", code: 4, signal: null, logFile: early.logFile }]);
  });

  it("counts an exit that came before the wait began when told to watch from earlier", async () => {
    const g = group();
    const first = g.start("first", process.execPath, ["-e", "process.exit(1)"]);
    await first.exited;
    const port = await freePort();
    g.start("second", process.execPath, server(port));
    await expect(g.waitHttp("second", `http://127.0.0.1:${port}/`, undefined, 10_000, 0)).rejects.toThrow(
      `first stopped while second was starting (exit code 1); see ${first.logFile}`,
    );
    // From now, the old exit no longer counts.
    await g.waitHttp("second", `http://127.0.0.1:${port}/`, undefined, 10_000);
  });

  it("does not count a stop it was asked for", async () => {
    const g = group();
    const port = await freePort();
    g.start("web", process.execPath, server(port));
    await g.waitHttp("web", `http://127.0.0.1:${port}/`);
    await g.stop("web");
    expect(g.unexpectedExits).toEqual([]);
    g.throwIfExitedSince(0);
  });

  it("says when the awaited process itself stopped", async () => {
    const g = group();
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((done) => blocker.listen(port, "127.0.0.1", done));
    try {
      const web = g.start("web", process.execPath, server(port));
      // The port is taken, so the process dies: the wait says so instead of timing out.
      await expect(g.waitHttp("web", `http://127.0.0.1:${await freePort()}/`, undefined, 10_000)).rejects.toThrow(
        `web stopped before it was ready (exit code 1); see ${web.logFile}`,
      );
    } finally {
      blocker.close();
    }
  });
});
