/**
 * A loopback port nobody listens on right now, for the tests and benchmarks
 * that start servers (never a fixed port: suites and benches run side by side).
 *
 * @module
 */
import { createServer } from "node:net";

/** A port of 127.0.0.1 nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
