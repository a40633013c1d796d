/**
 * Reads a server's certificate and key at start-up (settings of
 * lib/config/tls_settings.ts): a missing half or an unreadable file ends
 * the process with a message naming the setting, exit code 2.
 *
 * @example
 * ```ts
 * import { readTlsOrExit } from "./tls.ts";
 * const tls = readTlsOrExit(settings); // undefined: plain HTTP
 * await serveOrExit(app.fetch, { port, hostname, setting: "EXPORTER_PORT", tls });
 * ```
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { TLS_SETTINGS, tlsFilesOf } from "../lib/config/tls_settings.ts";

/** The PEM texts, or undefined for plain HTTP. */
export function readTlsOrExit(values: { tlsCertFile?: string | undefined; tlsKeyFile?: string | undefined }): { cert: string; key: string } | undefined {
  const checked = tlsFilesOf(values);
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n`);
    process.exit(2);
  };
  if (!checked.ok) return fail(checked.message);
  if (checked.files === undefined) return undefined;
  const read = (file: string, env: string) => {
    try {
      const text = readFileSync(file, "utf8");
      if (!text.includes("-----BEGIN ")) fail(`${env}=${file} holds no PEM block`);
      return text;
    } catch (error) {
      return fail(`${env}=${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read(checked.files.certFile, TLS_SETTINGS.tlsCertFile.env), key: read(checked.files.keyFile, TLS_SETTINGS.tlsKeyFile.env) };
}
