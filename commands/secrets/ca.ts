/**
 * The local certificate authority: makes (or keeps) `ca.crt`/`ca.key` and
 * a server certificate per service in `tls/` of the secrets folder, with
 * `@peculiar/x509` on WebCrypto (the same code on Node and Deno, no
 * openssl). Keys are ECDSA P-256 in PKCS#8 PEM, every file 0600; the CA key
 * never leaves the folder. A certificate is issued again when it is within
 * 30 days of expiry, its names changed, it is not signed by the current
 * CA, or `rotate` asks; a new CA (missing or expiring) reissues them all.
 *
 * @example
 * ```ts
 * import { ensureCertificates } from "./ca.ts";
 * const summary = await ensureCertificates("secrets", { extraNames: "etl.example.org" });
 * summary.caFile; // "secrets/ca.crt"
 * ```
 * @module
 */
import "reflect-metadata"; // @peculiar/x509 needs a Reflect polyfill, loaded before it
import * as x509 from "@peculiar/x509";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  CA_CERT_FILE,
  CA_KEY_FILE,
  CA_VALID_DAYS,
  certificateNames,
  type CertificateNames,
  expandIpv6,
  needsRenewal,
  parseExtraNames,
  SERVER_VALID_DAYS,
  serverFiles,
  TLS_SERVICES,
  type TlsService,
} from "../../lib/secrets/certificates.ts";
import { readSecretFileIfPresent, SECRET_DIR_MODE, writeSecretFile } from "../../workers/secret_files.ts";

x509.cryptoProvider.set(globalThis.crypto);
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

/** Options of {@linkcode ensureCertificates}. */
export interface CertificateOptions {
  /** Renew every server certificate now (the CA is kept unless it expires). */
  rotate?: boolean;
  /** `ETL_TLS_EXTRA_NAMES`: more host names and IPs for every certificate. */
  extraNames?: string | undefined;
  /** The clock (tests move it forward). */
  now?: Date;
}

/** What happened to one certificate. */
export type CertificateOutcome = "created" | "renewed" | "kept";

/** The result, for the summary `npm run secrets` prints. */
export interface CertificateSummary {
  caFile: string;
  ca: CertificateOutcome;
  servers: Array<{ service: TlsService; certFile: string; keyFile: string; outcome: CertificateOutcome; reason?: string; notAfter: Date }>;
}

const serial = () => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b, i) => (i === 0 ? b & 0x7f : b).toString(16).padStart(2, "0")).join("");

async function keyPair(): Promise<CryptoKeyPair> {
  return await globalThis.crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await globalThis.crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  return await globalThis.crypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(pem), ALGORITHM, true, ["sign"]);
}

/** The names a certificate carries, IPv6 written out in full. */
export function namesOf(cert: x509.X509Certificate): CertificateNames {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const items = san?.names.items ?? [];
  return {
    dns: items.filter((n) => n.type === "dns").map((n) => n.value),
    ips: items.filter((n) => n.type === "ip").map((n) => expandIpv6(n.value)),
  };
}

async function createCa(now: Date): Promise<{ cert: x509.X509Certificate; key: CryptoKey; keyPem: string }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=ETL monitoring stack local CA",
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_VALID_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, keyPem: await privateKeyPem(keys.privateKey) };
}

async function issueServer(
  ca: { cert: x509.X509Certificate; key: CryptoKey },
  service: TlsService,
  names: CertificateNames,
  now: Date,
): Promise<{ certPem: string; keyPem: string; notAfter: Date }> {
  const keys = await keyPair();
  // Never past the CA's own expiry: a chain with an expired root is refused anyway.
  const notAfter = new Date(Math.min(now.getTime() + SERVER_VALID_DAYS * DAY_MS, ca.cert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${service}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: "dns" as const, value })),
        ...names.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: `${cert.toString("pem")}\n`, keyPem: await privateKeyPem(keys.privateKey), notAfter };
}

/** Makes, keeps or renews the CA and every server certificate in `dir`. */
export async function ensureCertificates(dir: string, options: CertificateOptions = {}): Promise<CertificateSummary> {
  const now = options.now ?? new Date();
  const extra = parseExtraNames(options.extraNames);
  await mkdir(join(dir, "tls"), { recursive: true, mode: SECRET_DIR_MODE });

  const caFile = join(dir, CA_CERT_FILE);
  const caKeyFile = join(dir, CA_KEY_FILE);
  const [caPem, caKeyPem] = [await readSecretFileIfPresent(caFile), await readSecretFileIfPresent(caKeyFile)];
  let ca: { cert: x509.X509Certificate; key: CryptoKey };
  let caOutcome: CertificateOutcome = "kept";
  const existing = caPem !== null && caKeyPem !== null ? new x509.X509Certificate(caPem) : undefined;
  if (existing && needsRenewal({ notAfter: existing.notAfter, dns: [], ips: [] }, { dns: [], ips: [] }, now) === undefined) {
    ca = { cert: existing, key: await importPrivateKey(caKeyPem!) };
  } else {
    const made = await createCa(now);
    ca = made;
    caOutcome = existing ? "renewed" : "created";
    await writeSecretFile(caKeyFile, made.keyPem);
    await writeSecretFile(caFile, `${made.cert.toString("pem")}\n`);
  }

  const servers: CertificateSummary["servers"] = [];
  for (const service of TLS_SERVICES) {
    const files = serverFiles(service);
    const certFile = join(dir, files.cert);
    const keyFile = join(dir, files.key);
    const wanted = certificateNames(service, extra);
    const [pem, keyPem] = [await readSecretFileIfPresent(certFile), await readSecretFileIfPresent(keyFile)];
    let reason: string | undefined;
    if (pem === null || keyPem === null) reason = "missing";
    else if (options.rotate) reason = "--rotate";
    else if (caOutcome !== "kept") reason = "new CA";
    else {
      const cert = new x509.X509Certificate(pem);
      const signed = await cert.verify({ publicKey: ca.cert, signatureOnly: true }).catch(() => false);
      reason = signed ? needsRenewal({ notAfter: cert.notAfter, ...namesOf(cert) }, { dns: wanted.dns, ips: wanted.ips.map(expandIpv6) }, now) : "not signed by the CA";
      if (reason === undefined) {
        servers.push({ service, certFile, keyFile, outcome: "kept", notAfter: cert.notAfter });
        continue;
      }
    }
    const issued = await issueServer(ca, service, wanted, now);
    await writeSecretFile(keyFile, issued.keyPem);
    await writeSecretFile(certFile, issued.certPem);
    servers.push({ service, certFile, keyFile, outcome: pem === null ? "created" : "renewed", reason, notAfter: issued.notAfter });
  }
  return { caFile, ca: caOutcome, servers };
}

/** The lines `npm run secrets` prints about the certificates. */
export function formatCertificateSummary(summary: CertificateSummary): string {
  const lines = [`Local CA ${summary.caFile}: ${summary.ca} (trust it: curl --cacert ${summary.caFile})`];
  for (const s of summary.servers) {
    const why = s.reason && s.outcome === "renewed" ? ` (${s.reason})` : "";
    lines.push(`  ${s.service.padEnd(18)} ${s.outcome}${why}, valid until ${s.notAfter.toISOString().slice(0, 10)}: ${s.certFile}`);
  }
  return `${lines.join("\n")}\n`;
}
