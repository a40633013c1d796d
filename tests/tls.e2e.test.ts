/**
 * Every server of ours over HTTPS, on Node (the bundles) and Deno (the
 * sources), with the certificates `npm run secrets` makes: a client that
 * trusts the local CA gets through, plain HTTP and a client trusting
 * another CA do not, and one TLS setting without the other is refused.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { X509Certificate } from "node:crypto";
import { httpGet } from "../commands/stack/https_get.ts";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureStackSecrets } from "../commands/secrets/store.ts";
import { ensureCertificates } from "../commands/secrets/ca.ts";
import { serverFiles, type TlsService } from "../lib/secrets/certificates.ts";
import { cleanup, freePort, startWorker, stopWorker, tempDir, waitFor, type Worker } from "./harness.ts";

const dirs: string[] = [];
const workers: Worker[] = [];
let secrets: string;
let otherCa: string;

afterAll(async () => {
  for (const w of workers.splice(0)) await stopWorker(w);
  cleanup(dirs);
}, 30_000);

beforeAll(async () => {
  const root = tempDir("etl-tls-");
  dirs.push(root);
  secrets = join(root, "secrets");
  await ensureStackSecrets(secrets, { cost: 4 });
  await ensureCertificates(secrets);
  const other = join(root, "other-secrets");
  await ensureCertificates(other);
  otherCa = join(other, "ca.crt");
}, 60_000);

/** GET over HTTPS trusting `caFile` only: the status, or the TLS error's code. */
function httpsGet(url: string, caFile: string, servername = "localhost"): Promise<number | string> {
  return new Promise((done) => {
    const req = request(url, { ca: readFileSync(caFile), servername }, (res) => {
      res.resume();
      res.on("end", () => done(res.statusCode!));
    });
    req.on("error", (e) => done((e as { code?: string }).code ?? e.message));
    req.end();
  });
}

/** The protocol a client limited to TLS 1.2 negotiates (the server must still speak it). */
function tlsVersion(port: number, max: "TLSv1.2" | "TLSv1.3"): Promise<string> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port, ca: readFileSync(join(secrets, "ca.crt")), servername: "localhost", maxVersion: max }, () => {
      done(socket.getProtocol() ?? "none");
      socket.end();
    });
    socket.once("error", (e) => done((e as { code?: string }).code ?? e.message));
  });
}

const WORKERS: Array<{ name: "exporter" | "simulator" | "receiver"; service: TlsService; env: (port: number, data: string) => Record<string, string> }> = [
  { name: "exporter", service: "etl-metrics", env: (port, data) => ({ EXPORTER_PORT: String(port), ETL_DATA_DIR: data }) },
  {
    name: "simulator",
    service: "etl-simulator",
    env: (port, data) => ({
      SIMULATOR_PORT: String(port),
      ETL_DATA_DIR: data,
      ETL_METRICS_PASSWORD_FILE: join(secrets, "metrics_password.bcrypt"),
      ETL_CONTROL_PASSWORD_FILE: join(secrets, "control_password.bcrypt"),
    }),
  },
  {
    name: "receiver",
    service: "etl-alert-receiver",
    env: (port, data) => ({ RECEIVER_PORT: String(port), ETL_DATA_DIR: data, ETL_RECEIVER_PASSWORD_FILE: join(secrets, "receiver_password.bcrypt") }),
  },
];

describe.each(["node", "deno"] as const)("HTTPS on %s", (runtime) => {
  it.each(WORKERS)("$name serves HTTPS only, trusted through the local CA alone", async ({ name, service, env }) => {
    const port = await freePort();
    const data = tempDir(`etl-tls-${name}-`);
    dirs.push(data);
    const files = serverFiles(service);
    const worker = startWorker(name, ["--tls-cert-file", join(secrets, files.cert)], { ...env(port, data), ETL_TLS_KEY_FILE: join(secrets, files.key) }, runtime);
    workers.push(worker);
    const url = `https://127.0.0.1:${port}/-/healthy`;
    const status = await waitFor(async () => {
      const s = await httpsGet(url, join(secrets, "ca.crt"));
      return s === 200 ? s : undefined;
    }, 30_000, `${name} on ${runtime} over HTTPS (stderr: ${worker.stderr()})`);
    expect(status).toBe(200);
    expect(await httpsGet(url, join(secrets, "ca.crt"), service)).toBe(200); // the Compose service name
    expect(await httpsGet(url, otherCa)).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
    expect(await httpsGet(url, join(secrets, "ca.crt"), "elsewhere.example.org")).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    // Plain HTTP on the same port gets no answer of ours.
    const plain = await fetch(`http://127.0.0.1:${port}/-/healthy`).then((r) => r.status, (e: Error) => e.name);
    expect(plain).not.toBe(200);
    expect(await tlsVersion(port, "TLSv1.2")).toBe("TLSv1.2");
    expect(await tlsVersion(port, "TLSv1.3")).toBe("TLSv1.3");
    if (name === "exporter") {
      // It exports the expiry of the certificate it serves.
      const metrics = await httpGet(`https://127.0.0.1:${port}/metrics`, { ca: readFileSync(join(secrets, "ca.crt"), "utf8") });
      const expiry = Date.parse(new X509Certificate(readFileSync(join(secrets, files.cert))).validTo) / 1000;
      expect(metrics.body).toContain(`\netl_tls_certificate_expiry_timestamp_seconds ${expiry}\n`);
    }
    await stopWorker(worker);
  }, 60_000);
});

describe("a half TLS setting", () => {
  it("is refused at start with exit code 2, naming the missing setting", async () => {
    const worker = startWorker("exporter", [], { EXPORTER_PORT: String(await freePort()), ETL_TLS_CERT_FILE: join(secrets, "tls/etl-metrics.crt") });
    const { code } = await worker.exited;
    expect(code).toBe(2);
    expect(worker.stderr()).toContain("ETL_TLS_CERT_FILE is set but ETL_TLS_KEY_FILE is not: give both or neither");
  });

  it("is refused when a file holds no PEM", async () => {
    const worker = startWorker("exporter", [], {
      EXPORTER_PORT: String(await freePort()),
      ETL_TLS_CERT_FILE: join(secrets, "metrics_password"),
      ETL_TLS_KEY_FILE: join(secrets, "tls/etl-metrics.key"),
    });
    expect((await worker.exited).code).toBe(2);
    expect(worker.stderr()).toContain(`ETL_TLS_CERT_FILE=${join(secrets, "metrics_password")} holds no PEM block`);
  });
});
