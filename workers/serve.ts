/**
 * Serves a fetch handler on Deno (`Deno.serve`) or Node (`@hono/node-server`),
 * whichever runs this file.
 *
 * @example
 * ```ts
 * import { serveFetch } from "./serve.ts";
 * const server = await serveFetch(app.fetch, { port: 8083, hostname: "127.0.0.1" });
 * await server.close();
 * ```
 * @module
 */
import { createServer as createHttpsServer } from "node:https";
import process from "node:process";
import { serve as serveNode } from "@hono/node-server";

/** The parts of Deno's API used here (so Node's type check knows them). */
interface DenoServe {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void; signal?: AbortSignal; cert?: string; key?: string },
    handler: (request: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
}

/** A running server. */
export interface RunningServer {
  /** The port bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Where and how to listen. */
export interface ServeOptions {
  port: number;
  hostname: string;
  /**
   * PEM certificate and key: HTTPS only, TLS 1.2 or newer, no plain
   * listener. (Deno's TLS, rustls, speaks nothing older than 1.2.)
   */
  tls?: { cert: string; key: string } | undefined;
}

/** Starts listening; resolves once the port is bound, rejects when it cannot be (port taken). */
export function serveFetch(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ServeOptions,
): Promise<RunningServer> {
  const deno = (globalThis as { Deno?: DenoServe }).Deno;
  if (deno) {
    return new Promise((resolve, reject) => {
      try {
        const server = deno.serve(
          {
            port: options.port,
            hostname: options.hostname,
            ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
            onListen: (addr) => resolve({ port: addr.port, close: () => server.shutdown() }),
          },
          fetch,
        );
      } catch (error) {
        reject(error);
      }
    });
  }
  return new Promise((resolve, reject) => {
    const tls = options.tls
      ? { createServer: createHttpsServer, serverOptions: { cert: options.tls.cert, key: options.tls.key, minVersion: "TLSv1.2" as const } }
      : {};
    const server = serveNode({ fetch, port: options.port, hostname: options.hostname, ...tls }, (info) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once("error", reject);
  });
}

/**
 * Like {@linkcode serveFetch}, but an address that cannot be bound ends the
 * process with a message naming the address and the setting to change: a
 * taken port (exit 1, an everyday mistake, not a crash) is told apart from
 * a host that is not this machine's (exit 2, a wrong setting).
 *
 * @example
 * ```ts
 * const server = await serveOrExit(app.fetch, { port: 8083, hostname: "127.0.0.1", portSetting: "EXPORTER_PORT", hostSetting: "ETL_HOST" });
 * ```
 */
export async function serveOrExit(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ServeOptions & { portSetting: string; hostSetting: string },
): Promise<RunningServer> {
  try {
    return await serveFetch(fetch, options);
  } catch (error) {
    const { message, exitCode } = listenFailure(error, options);
    process.stderr.write(message + "\n");
    process.exit(exitCode);
  }
}

/** What a failed listen means, in words, and the exit code that goes with it. */
export function listenFailure(
  error: unknown,
  options: { port: number; hostname: string; portSetting: string; hostSetting: string },
): { message: string; exitCode: 1 | 2 } {
  const code = (error as { code?: string }).code ?? (error as Error).name;
  const text = (error as Error).message ?? String(error);
  const where = `cannot listen on ${options.hostname}:${options.port}`;
  if (code === "EADDRINUSE" || code === "AddrInUse") {
    return { message: `${where}: the port is in use (another copy running?); set ${options.portSetting} to another port`, exitCode: 1 };
  }
  if (code === "EACCES" || code === "PermissionDenied") {
    return { message: `${where}: permission denied (ports below 1024 need privileges); set ${options.portSetting} to another port`, exitCode: 1 };
  }
  // Node: ENOTFOUND from the lookup, EADDRNOTAVAIL from bind; Deno: AddrNotAvailable, or a lookup message.
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EADDRNOTAVAIL" || code === "AddrNotAvailable" || /failed to lookup address/.test(text)) {
    return {
      message: `${where}: ${options.hostname} is not an address of this machine; set ${options.hostSetting} to one that is (127.0.0.1, or 0.0.0.0 for every interface)`,
      exitCode: 2,
    };
  }
  return { message: `${where}: ${text}`, exitCode: 1 };
}
