/**
 * The local certificate authority's plan: which server certificates exist,
 * the names each is reached by, where the files go in the secrets folder,
 * and when a certificate must be renewed. Pure; `commands/secrets/ca.ts`
 * does the X.509 work and the writing.
 *
 * @example
 * ```ts
 * import { certificateNames, needsRenewal } from "./certificates.ts";
 * certificateNames("etl-metrics", []); // { dns: ["localhost", "etl-metrics"], ips: ["127.0.0.1", "::1"] }
 * needsRenewal({ notAfter: new Date("2027-01-10"), dns: [], ips: [] }, { dns: [], ips: [] }, new Date("2027-01-01")); // "expires within 30 days"
 * ```
 * @module
 */

/** The services that serve HTTPS with a certificate of the local CA: ours and the Compose stack's others. */
export const TLS_SERVICES = ["etl-metrics", "etl-simulator", "etl-alert-receiver", "prometheus", "alertmanager", "grafana"] as const;

/** One of {@linkcode TLS_SERVICES}. */
export type TlsService = (typeof TLS_SERVICES)[number];

/** The CA's certificate, the file clients trust (`curl --cacert secrets/ca.crt`). */
export const CA_CERT_FILE = "ca.crt";
/** The CA's private key: stays in the secrets folder, mode 0600. */
export const CA_KEY_FILE = "ca.key";

/** Where a service's certificate and key go, relative to the secrets folder. */
export function serverFiles(service: TlsService): { cert: string; key: string } {
  return { cert: `tls/${service}.crt`, key: `tls/${service}.key` };
}

/** Days a certificate is valid: the CA ten years, a server certificate one. */
export const CA_VALID_DAYS = 3650;
export const SERVER_VALID_DAYS = 365;
/** `npm run secrets` renews a certificate this close to its expiry. */
export const RENEW_WITHIN_DAYS = 30;

/** The environment variable of extra names for every server certificate. */
export const TLS_EXTRA_NAMES_ENV = "ETL_TLS_EXTRA_NAMES";

/** Subject alternative names. */
export interface CertificateNames {
  dns: string[];
  ips: string[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const isIpv6 = (s: string) => s.includes(":") && /^[0-9a-f:.]+$/i.test(s) && s.split("::").length <= 2;

/**
 * Parses `ETL_TLS_EXTRA_NAMES` (comma-separated host names and IP
 * addresses); throws naming the first bad entry.
 *
 * @example
 * ```ts
 * parseExtraNames("etl.example.org, 10.0.0.5"); // { dns: ["etl.example.org"], ips: ["10.0.0.5"] }
 * ```
 */
export function parseExtraNames(text: string | undefined): CertificateNames {
  const out: CertificateNames = { dns: [], ips: [] };
  for (const raw of (text ?? "").split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (IPV4.test(name) || isIpv6(name)) out.ips.push(name.toLowerCase());
    else if (DNS_NAME.test(name) && name.length <= 253) out.dns.push(name.toLowerCase());
    else throw new Error(`${TLS_EXTRA_NAMES_ENV}: ${JSON.stringify(name)} is neither a host name nor an IP address`);
  }
  return out;
}

const unique = (list: string[]) => [...new Set(list)];

/**
 * The names a service is reached by: loopback (a native stack), its
 * Compose service name (other containers), and the extra names.
 *
 * @example
 * ```ts
 * certificateNames("prometheus", { dns: ["mon.example.org"], ips: [] }).dns; // ["localhost", "prometheus", "mon.example.org"]
 * ```
 */
export function certificateNames(service: TlsService, extra: CertificateNames): CertificateNames {
  return { dns: unique(["localhost", service, ...extra.dns]), ips: unique(["127.0.0.1", "::1", ...extra.ips]) };
}

/** What a certificate on disk says about itself. */
export interface IssuedCertificate extends CertificateNames {
  notAfter: Date;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * Why a certificate must be issued again, or undefined to keep it: close
 * to expiry, or names that no longer match what is wanted.
 *
 * @example
 * ```ts
 * needsRenewal({ notAfter: new Date("2030-01-01"), dns: ["localhost"], ips: [] }, { dns: ["localhost"], ips: [] }, new Date("2027-01-01")); // undefined
 * ```
 */
export function needsRenewal(issued: IssuedCertificate, wanted: CertificateNames, now: Date, withinDays = RENEW_WITHIN_DAYS): string | undefined {
  if (issued.notAfter.getTime() - now.getTime() <= withinDays * 86_400_000) return `expires within ${withinDays} days`;
  if (!sameSet(issued.dns, wanted.dns) || !sameSet(issued.ips, wanted.ips)) return "its names changed";
  return undefined;
}

/** IPv6 in the fully written form certificates compare by (`::1` → `0:0:0:0:0:0:0:1`). */
export function expandIpv6(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, "").toLowerCase()).join(":");
}
