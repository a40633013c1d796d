import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:https";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, tempDir } from "../../tests/harness.ts";
import { TLS_SERVICES } from "../../lib/secrets/certificates.ts";
import { ensureCertificates, formatCertificateSummary } from "./ca.ts";

const dirs: string[] = [];
afterAll(() => cleanup(dirs));
const fresh = () => {
  const d = tempDir("etl-ca-");
  dirs.push(d);
  return join(d, "secrets");
};
const DAY = 86_400_000;

describe("the local CA", () => {
  it("makes a CA and a certificate per service, with every name, all files 0600, verified by Node's own X.509", async () => {
    const dir = fresh();
    const summary = await ensureCertificates(dir, { extraNames: "etl.example.org, 10.1.2.3" });
    expect(summary.ca).toBe("created");
    expect(summary.servers.map((s) => [s.service, s.outcome])).toEqual(TLS_SERVICES.map((s) => [s, "created"]));
    const ca = new X509Certificate(readFileSync(join(dir, "ca.crt")));
    expect(ca.ca).toBe(true);
    for (const file of ["ca.crt", "ca.key", "tls/etl-metrics.crt", "tls/etl-metrics.key"]) expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(dir, "tls/etl-metrics.crt")));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.subjectAltName).toBe("DNS:localhost, DNS:etl-metrics, DNS:etl.example.org, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.1.2.3");
    expect(cert.checkHost("etl-metrics")).toBe("etl-metrics");
    expect(cert.checkIP("::1")).toBe("::1");
    const days = (Date.parse(cert.validTo) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    expect(formatCertificateSummary(summary)).toContain(`curl --cacert ${join(dir, "ca.crt")}`);
    expect(formatCertificateSummary(summary)).not.toContain("PRIVATE KEY");
  });

  it("keeps what is valid, renews within 30 days of expiry, on --rotate, and when the names change", async () => {
    const dir = fresh();
    await ensureCertificates(dir);
    const before = readFileSync(join(dir, "tls/prometheus.crt"), "utf8");
    const kept = await ensureCertificates(dir);
    expect(kept.ca).toBe("kept");
    expect(kept.servers.every((s) => s.outcome === "kept")).toBe(true);
    expect(readFileSync(join(dir, "tls/prometheus.crt"), "utf8")).toBe(before);

    const early = await ensureCertificates(dir, { now: new Date(Date.now() + 300 * DAY) });
    expect(early.servers.every((s) => s.outcome === "kept")).toBe(true);
    const late = await ensureCertificates(dir, { now: new Date(Date.now() + 336 * DAY) });
    expect(late.servers.every((s) => s.outcome === "renewed" && s.reason === "expires within 30 days")).toBe(true);

    const rotated = await ensureCertificates(dir, { rotate: true });
    expect(rotated.ca).toBe("kept");
    expect(rotated.servers.every((s) => s.reason === "--rotate")).toBe(true);
    const renamed = await ensureCertificates(dir, { extraNames: "etl.example.org" });
    expect(renamed.servers.every((s) => s.reason === "its names changed")).toBe(true);
  });

  it("replaces an expiring CA and then reissues every certificate under it", async () => {
    const dir = fresh();
    await ensureCertificates(dir);
    const summary = await ensureCertificates(dir, { now: new Date(Date.now() + 3640 * DAY) });
    expect(summary.ca).toBe("renewed");
    expect(summary.servers.every((s) => s.reason === "new CA")).toBe(true);
  });

  it("refuses a bad extra name, naming it", async () => {
    await expect(ensureCertificates(fresh(), { extraNames: "ok.example.org, bad name" })).rejects.toThrow('ETL_TLS_EXTRA_NAMES: "bad name" is neither');
  });

  it("serves a TLS handshake that a client trusting only the CA accepts, and one trusting another CA refuses", async () => {
    const dir = fresh();
    const other = fresh();
    await ensureCertificates(dir);
    await ensureCertificates(other);
    const server = createServer({ cert: readFileSync(join(dir, "tls/etl-metrics.crt")), key: readFileSync(join(dir, "tls/etl-metrics.key")) }, (_q, r) => r.end("ok"));
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
    const port = (server.address() as { port: number }).port;
    const handshake = (ca: string, servername: string) =>
      new Promise<string>((done) => {
        const socket = connect({ host: "127.0.0.1", port, ca: readFileSync(ca), servername }, () => {
          done("ok");
          socket.end();
        });
        socket.once("error", (e) => done((e as { code?: string }).code ?? e.message));
      });
    try {
      expect(await handshake(join(dir, "ca.crt"), "localhost")).toBe("ok");
      expect(await handshake(join(dir, "ca.crt"), "etl-metrics")).toBe("ok");
      expect(await handshake(join(dir, "ca.crt"), "elsewhere.example.org")).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      expect(await handshake(join(other, "ca.crt"), "localhost")).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
