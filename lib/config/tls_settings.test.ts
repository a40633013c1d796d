import { describe, expect, it } from "vitest";
import { parseSettings } from "./settings.ts";
import { TLS_SETTINGS, tlsFilesOf } from "./tls_settings.ts";

describe("TLS settings", () => {
  it("read flags and environment variables, the flag winning", () => {
    const r = parseSettings(TLS_SETTINGS, { ETL_TLS_CERT_FILE: "env.crt", ETL_TLS_KEY_FILE: "env.key" }, ["--tls-cert-file", "flag.crt"]);
    expect(r).toEqual({
      ok: true,
      values: { tlsCertFile: "flag.crt", tlsKeyFile: "env.key" },
      sources: { tlsCertFile: "flag", tlsKeyFile: "env" },
    });
  });

  it("mean plain HTTP with neither, HTTPS with both, an error with one", () => {
    expect(tlsFilesOf({})).toEqual({ ok: true, files: undefined });
    expect(tlsFilesOf({ tlsCertFile: "a.crt", tlsKeyFile: "a.key" })).toEqual({ ok: true, files: { certFile: "a.crt", keyFile: "a.key" } });
    expect(tlsFilesOf({ tlsCertFile: "a.crt" })).toEqual({ ok: false, message: "ETL_TLS_CERT_FILE is set but ETL_TLS_KEY_FILE is not: give both or neither" });
    expect(tlsFilesOf({ tlsKeyFile: "a.key" })).toEqual({ ok: false, message: "ETL_TLS_KEY_FILE is set but ETL_TLS_CERT_FILE is not: give both or neither" });
  });
});
