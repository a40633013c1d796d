/**
 * What `npm run stack -- up` prints once the services are ready. It takes
 * no password, so it cannot print one.
 *
 * @module
 */
import { PUBLISHED_PORTS } from "./published_ports.ts";
import { textTable } from "./text_table.ts";

/** A credential as `up` prints it: what it opens, the user, the password's file. */
export interface CredentialLine {
  opens: string;
  user: string;
  passwordFile: string;
}

/**
 * The URL of each service started (by service name, in the order of
 * `PUBLISHED_PORTS`), then which user and password file open what, and a
 * warning when the ports are published beyond this machine.
 */
export function readySummary(input: {
  project: string;
  urls: Readonly<Record<string, string>>;
  bindAddress: string;
  credentials: readonly CredentialLine[];
  reference: string;
  /** The CA to trust, when the stack serves HTTPS only (`up --tls`). */
  caFile?: string;
}): string[] {
  const urls = PUBLISHED_PORTS.filter((p) => input.urls[p.service] !== undefined).map((p) => [p.title, input.urls[p.service]!]);
  const https = input.caFile === undefined ? "" : `, HTTPS only: trust ${input.caFile} (curl --cacert ${input.caFile})`;
  const lines = [`The stack is up (project ${input.project}${https}):`, ...textTable(urls), ""];
  lines.push("Credentials (user, the file holding the password, what it opens; passwords are never printed):");
  lines.push(...textTable(input.credentials.map((c) => [c.user, c.passwordFile, c.opens.replaceAll("`", "")])));
  lines.push(`Reference: ${input.reference}`);
  if (input.bindAddress !== "127.0.0.1" && input.bindAddress !== "::1") {
    lines.push(
      "",
      input.caFile === undefined
        ? `Published on ${input.bindAddress}: Alertmanager and the exporter ask for no password, and nothing is TLS; put a proxy with TLS in front.`
        : `Published on ${input.bindAddress}: Alertmanager and the exporter ask for no password; their certificates carry only the names in ETL_TLS_EXTRA_NAMES beyond localhost.`,
    );
  }
  return lines;
}
