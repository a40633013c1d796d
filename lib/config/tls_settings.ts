/**
 * The HTTPS settings every server of ours takes: a certificate and its key
 * (PEM files, e.g. `secrets/tls/etl-metrics.crt` from `npm run secrets`).
 * With both given the server speaks only HTTPS (TLS 1.2 or newer); with
 * neither, plain HTTP as before; one without the other is an error.
 *
 * @example
 * ```ts
 * import { TLS_SETTINGS, tlsFilesOf } from "./tls_settings.ts";
 * const spec = { ...COMMON_SETTINGS, ...TLS_SETTINGS };
 * tlsFilesOf({ tlsCertFile: "a.crt", tlsKeyFile: "a.key" }); // { ok: true, files: { certFile: "a.crt", keyFile: "a.key" } }
 * ```
 * @module
 */
import * as z from "zod";
import type { SettingsSpec } from "./settings.ts";

const file = z.string().min(1, "must not be empty").optional();

/** `--tls-cert-file` / `--tls-key-file` and their environment variables. */
export const TLS_SETTINGS = {
  tlsCertFile: {
    env: "ETL_TLS_CERT_FILE",
    flag: "tls-cert-file",
    help: "Serve HTTPS only, with this certificate (PEM; with --tls-key-file).",
    defaultText: "unset (plain HTTP)",
    schema: file,
  },
  tlsKeyFile: {
    env: "ETL_TLS_KEY_FILE",
    flag: "tls-key-file",
    help: "The private key (PEM) of --tls-cert-file.",
    defaultText: "unset",
    schema: file,
  },
} satisfies SettingsSpec;

/** The two files, when HTTPS is on. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Both files or neither; one alone is refused with a message naming the missing one. */
export function tlsFilesOf(values: { tlsCertFile?: string | undefined; tlsKeyFile?: string | undefined }):
  | { ok: true; files: TlsFiles | undefined }
  | { ok: false; message: string } {
  const { tlsCertFile, tlsKeyFile } = values;
  if (tlsCertFile === undefined && tlsKeyFile === undefined) return { ok: true, files: undefined };
  if (tlsCertFile === undefined) return { ok: false, message: `${TLS_SETTINGS.tlsKeyFile.env} is set but ${TLS_SETTINGS.tlsCertFile.env} is not: give both or neither` };
  if (tlsKeyFile === undefined) return { ok: false, message: `${TLS_SETTINGS.tlsCertFile.env} is set but ${TLS_SETTINGS.tlsKeyFile.env} is not: give both or neither` };
  return { ok: true, files: { certFile: tlsCertFile, keyFile: tlsKeyFile } };
}
