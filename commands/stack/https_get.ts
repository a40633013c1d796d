/**
 * GET (or another method) over HTTP or HTTPS trusting a given CA, with
 * `node:https` (Node 20's `fetch` takes no CA without undici's dispatcher).
 * Used to probe a stack that runs over HTTPS with the local CA, by the
 * management CLI in TLS mode ({@linkcode fetchTrusting}), and by the tests.
 *
 * @example
 * ```ts
 * import { httpGet } from "./https_get.ts";
 * const res = await httpGet("https://127.0.0.1:9090/-/ready", { ca: readFileSync("secrets/ca.crt", "utf8") });
 * res.status; // 200
 * ```
 * @module
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** Options of {@linkcode httpGet}. */
export interface GetOptions {
  /** PEM of the only CA to trust (HTTPS). */
  ca?: string;
  headers?: Record<string, string>;
  /** The name the certificate must carry; the URL's host by default. */
  servername?: string;
  timeoutMs?: number;
  /** GET unless given. */
  method?: string;
  body?: string;
}

/** The answer; a connection or TLS failure rejects with the error (its `code`, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
export function httpGet(url: string, options: GetOptions = {}): Promise<{ status: number; body: string }> {
  const secure = url.startsWith("https:");
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        timeout: options.timeoutMs ?? 10_000,
        ...(secure ? { ca: options.ca, ...(options.servername ? { servername: options.servername } : {}), minVersion: "TLSv1.2" as const } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * A `fetch` for callers written against it (the scenario command) that
 * trusts only `ca`: string bodies and plain-object headers, as those callers
 * send. A connection or TLS failure rejects as `fetch` does, a TypeError
 * whose `cause` carries the error's `code`.
 *
 * @example
 * ```ts
 * const response = await fetchTrusting(readFileSync("secrets/ca.crt", "utf8"))("https://127.0.0.1:8000/-/healthy");
 * response.status; // 200
 * ```
 */
export function fetchTrusting(ca: string): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = typeof init?.body === "string" ? init.body : undefined;
    try {
      const answer = await httpGet(url, { ca, headers, method: init?.method, body });
      return new Response(answer.body, { status: answer.status });
    } catch (error) {
      throw new TypeError("fetch failed", { cause: error });
    }
  };
}
