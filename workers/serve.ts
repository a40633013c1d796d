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
 * Like {@linkcode serveFetch}, but a port that cannot be bound ends the
 * process with a message naming the address and the setting to change, and
 * exit code 1: a taken port is an everyday mistake, not a crash.
 *
 * @example
 * ```ts
 * const server = await serveOrExit(app.fetch, { port: 8083, hostname: "127.0.0.1", setting: "EXPORTER_PORT" });
 * ```
 */
export async function serveOrExit(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ServeOptions & { setting: string },
): Promise<RunningServer> {
  try {
    return await serveFetch(fetch, options);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    const why = code === "EADDRINUSE" || code === "AddrInUse"
      ? "the address is in use (another copy running?)"
      : code === "EACCES" || code === "PermissionDenied"
      ? "permission denied (ports below 1024 need privileges)"
      : (error as Error).message;
    process.stderr.write(`cannot listen on ${options.hostname}:${options.port}: ${why}; set ${options.setting} to another port\n`);
    process.exit(1);
  }
}
