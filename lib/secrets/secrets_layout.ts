/**
 * The credentials of the stack and where each one lives in the secrets
 * folder (`./secrets/` unless `--dir` or `ETL_SECRETS_DIR` say otherwise).
 * The generator (`npm run secrets`), the reference it writes and the
 * configuration of the other services all read this one table, so a file
 * name cannot drift between them.
 *
 * Only names and text are here, no I/O: the passwords themselves never pass
 * through this module, so nothing it renders can contain one.
 *
 * @example
 * ```ts
 * import { renderPrometheusWebConfig, STACK_CREDENTIALS } from "./secrets_layout.ts";
 * STACK_CREDENTIALS.map((c) => c.passwordFile);
 * // ["metrics_password", "control_password", "receiver_password",
 * //  "prometheus_admin_password", "prometheus_readonly_password", "grafana_admin_password"]
 * renderPrometheusWebConfig([{ user: "admin", hash: adminHash }]);
 * ```
 * @module
 */
import { isBcryptHash } from "../auth/credential_verifier.ts";

/** The environment variable that moves the secrets folder (`--dir` wins over it). */
export const SECRETS_DIR_ENV = "ETL_SECRETS_DIR";

/** The secrets folder, relative to the repository root; git-ignored. */
export const DEFAULT_SECRETS_DIR = "secrets";

/** Prometheus's `--web.config.file`, generated: the bcrypt hashes of its users. */
export const PROMETHEUS_WEB_CONFIG_FILE = "prometheus-web.yml";

/** The generated reference: who uses which credential, and how to try it. */
export const CREDENTIALS_REFERENCE_FILE = "CREDENTIALS.md";

/** The names `--rotate NAME` accepts, one per credential. */
export const CREDENTIAL_NAMES = [
  "metrics",
  "control",
  "receiver",
  "prometheus_admin",
  "prometheus_readonly",
  "grafana_admin",
] as const;

/** One of {@linkcode CREDENTIAL_NAMES}. */
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

/**
 * Where the bcrypt hash a server checks is kept:
 * - `file`: a `.bcrypt` file beside the password, read by our own servers;
 * - `prometheus-web-config`: a line of {@linkcode PROMETHEUS_WEB_CONFIG_FILE};
 * - `none`: the server stores its own (Grafana hashes it into its database).
 */
export type HashStorage =
  | { kind: "file"; file: string }
  | { kind: "prometheus-web-config" }
  | { kind: "none" };

/** One credential of the stack. File names are relative to the secrets folder. */
export interface CredentialSpec {
  /** What `--rotate NAME` calls it. */
  name: CredentialName;
  /** The basic-auth user name (Grafana: the login). */
  user: string;
  /** The file holding the password, no trailing newline. */
  passwordFile: string;
  hash: HashStorage;
  /** Who sends the password, and how it gets it. */
  usedBy: string;
  /** Who checks it. */
  checkedBy: string;
  /** What it opens, in a few words. */
  opens: string;
  /** A URL it opens, used in the curl example. */
  url: string;
  /** The curl example's method and JSON body, for endpoints that want a POST. */
  method?: "GET" | "POST";
  body?: string;
  /**
   * When a new password takes effect, and anything else worth knowing.
   * `{passwordFile}` stands for the path of the password file, shell-quoted.
   */
  notes: string;
}

/**
 * The stack's credentials. The metrics file names are those of
 * `lib/secrets/dev_credentials.ts` (checked by a test), so the dev command and the
 * generator share them.
 */
export const STACK_CREDENTIALS: readonly CredentialSpec[] = [
  {
    name: "metrics",
    user: "metrics",
    passwordFile: "metrics_password",
    hash: { kind: "file", file: "metrics_password.bcrypt" },
    usedBy: "Prometheus (job `etl-simulator`, `basic_auth.password_file`), and you",
    checkedBy: "the simulator (reads `metrics_password.bcrypt` at start)",
    opens: "the simulator's `/metrics`",
    url: "http://127.0.0.1:8000/metrics",
    notes: "Prometheus reads `password_file` at every scrape; restart the simulator after a rotation.",
  },
  {
    name: "control",
    user: "control",
    passwordFile: "control_password",
    hash: { kind: "file", file: "control_password.bcrypt" },
    usedBy: "you, a test or `npm run scenario`, to read or switch the simulator's scenario",
    checkedBy: "the simulator (reads `control_password.bcrypt` at start)",
    opens: "the simulator's scenario switch, `/control/scenario` (GET reads it, PUT changes it)",
    url: "http://127.0.0.1:8000/control/scenario",
    notes: "Restart the simulator after a rotation.",
  },
  {
    name: "receiver",
    user: "alertmanager",
    passwordFile: "receiver_password",
    hash: { kind: "file", file: "receiver_password.bcrypt" },
    usedBy: "Alertmanager (webhook receiver, `http_config.basic_auth.password_file`), and you",
    checkedBy: "the alert webhook receiver (reads `receiver_password.bcrypt` at start)",
    opens: "the alert webhook receiver: `POST /webhook`, `GET /notifications`",
    url: "http://127.0.0.1:9095/notifications",
    notes: "Alertmanager reads `password_file` at every notification; restart the receiver after a rotation.",
  },
  {
    name: "prometheus_admin",
    user: "admin",
    passwordFile: "prometheus_admin_password",
    hash: { kind: "prometheus-web-config" },
    usedBy: "you (the web UI and the HTTP API), Grafana's admin tasks",
    checkedBy: `Prometheus (\`--web.config.file=${PROMETHEUS_WEB_CONFIG_FILE}\`)`,
    opens: "Prometheus's web UI and HTTP API",
    url: "http://127.0.0.1:9090/api/v1/status/config",
    notes:
      "Prometheus reads the web config file at every request, so a rotation applies at once. " +
      "Its basic auth has no roles: `admin` and `readonly` open the same things, and only keeping " +
      "the admin and lifecycle APIs off makes `readonly` read-only.",
  },
  {
    name: "prometheus_readonly",
    user: "readonly",
    passwordFile: "prometheus_readonly_password",
    hash: { kind: "prometheus-web-config" },
    usedBy: "Prometheus's self-scrape (job `prometheus`), Grafana's Prometheus data source",
    checkedBy: `Prometheus (\`--web.config.file=${PROMETHEUS_WEB_CONFIG_FILE}\`)`,
    opens: "Prometheus's HTTP API (queries)",
    url: "http://127.0.0.1:9090/api/v1/query?query=up",
    notes: "Prometheus reads the web config file at every request, so a rotation applies at once.",
  },
  {
    name: "grafana_admin",
    user: "admin",
    passwordFile: "grafana_admin_password",
    hash: { kind: "none" },
    usedBy: "you (Grafana's login page and HTTP API)",
    checkedBy: "Grafana (`GF_SECURITY_ADMIN_PASSWORD__FILE`)",
    opens: "Grafana",
    url: "http://127.0.0.1:3000/api/user",
    notes:
      "Grafana reads the file only when it creates its database. After a rotation, set the new " +
      "password in Grafana too: `grafana cli admin reset-admin-password --password-from-stdin " +
      "< {passwordFile}` (Grafana 9.1 or later).",
  },
];

/**
 * The credential called `name`.
 *
 * @example
 * ```ts
 * credentialSpec("receiver").user; // "alertmanager"
 * ```
 */
export function credentialSpec(name: CredentialName): CredentialSpec {
  const spec = STACK_CREDENTIALS.find((c) => c.name === name);
  // The table and CREDENTIAL_NAMES are checked against each other by a test.
  if (spec === undefined) throw new Error(`no credential named ${name}`);
  return spec;
}

/**
 * Tells whether `value` names a credential, for checking `--rotate NAME`.
 *
 * @example
 * ```ts
 * isCredentialName("metrics"); // true
 * isCredentialName("root"); // false
 * ```
 */
export function isCredentialName(value: string): value is CredentialName {
  return (CREDENTIAL_NAMES as readonly string[]).includes(value);
}

/** A user of Prometheus's web config and the bcrypt hash of its password. */
export interface WebConfigUser {
  user: string;
  hash: string;
}

// Plain YAML keys that need no quoting, and that basic auth can carry (no ":").
const WEB_CONFIG_USER = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * The text of Prometheus's `--web.config.file`: `basic_auth_users` with one
 * bcrypt hash per user. Throws on a user name that is not a plain word or a
 * value that is not a bcrypt hash, so a password put in the wrong place
 * never reaches the file (the error does not quote the value).
 *
 * @example
 * ```ts
 * renderPrometheusWebConfig([{ user: "admin", hash: "$2b$10$" + "x".repeat(53) }]);
 * // "# Generated by `npm run secrets` …\nbasic_auth_users:\n  admin: '$2b$10$xxx…'\n"
 * ```
 */
export function renderPrometheusWebConfig(users: readonly WebConfigUser[]): string {
  if (users.length === 0) throw new Error("Prometheus's web config needs at least one user");
  const seen = new Set<string>();
  const lines = [
    "# Generated by `npm run secrets`: do not edit, run it again (--rotate NAME for a new password).",
    "# Prometheus's own HTTP basic auth (--web.config.file); bcrypt hashes only, the passwords",
    "# are in the *_password files beside this one.",
    "basic_auth_users:",
  ];
  for (const { user, hash } of users) {
    if (!WEB_CONFIG_USER.test(user)) throw new Error(`not a plain user name for Prometheus's web config: ${JSON.stringify(user)}`);
    if (seen.has(user)) throw new Error(`user ${user} appears twice in Prometheus's web config`);
    seen.add(user);
    if (!isBcryptHash(hash)) throw new Error(`the hash of ${user} is not a bcrypt hash ($2b$<cost>$ + 53 characters)`);
    // Single quotes: a bcrypt hash has no quote, and "$" then means nothing to any YAML reader.
    lines.push(`  ${user}: '${hash}'`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Reads back the users and hashes of a file made by
 * {@linkcode renderPrometheusWebConfig}, so a re-run can keep hashes that
 * still match. Lines it does not recognize are ignored: anything it misses is
 * merely hashed again.
 *
 * @example
 * ```ts
 * parsePrometheusWebConfigUsers("basic_auth_users:\n  admin: '$2b$10$…'\n").get("admin"); // "$2b$10$…"
 * ```
 */
export function parsePrometheusWebConfigUsers(text: string): Map<string, string> {
  const users = new Map<string, string>();
  let inUsers = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    if (/^\S/.test(line)) {
      inUsers = /^basic_auth_users:\s*$/.test(line);
      continue;
    }
    const entry = inUsers ? /^\s+([A-Za-z][A-Za-z0-9_.-]*):\s*(['"]?)(\S+?)\2\s*$/.exec(line) : null;
    if (entry && isBcryptHash(entry[3]!)) users.set(entry[1]!, entry[3]!);
  }
  return users;
}

/**
 * Quotes a word for a POSIX shell, leaving plain paths and URLs readable.
 *
 * @example
 * ```ts
 * shellQuote("secrets/metrics_password"); // "secrets/metrics_password"
 * shellQuote("http://h/q?query=up"); // "'http://h/q?query=up'"
 * shellQuote("it's"); // "'it'\\''s'"
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A curl command that tries `spec`, reading the password from its file in
 * `dir` at run time, so the command itself holds no secret.
 *
 * @example
 * ```ts
 * curlExample(credentialSpec("prometheus_readonly"), "secrets");
 * // `curl -u "readonly:$(cat secrets/prometheus_readonly_password)" 'http://127.0.0.1:9090/api/v1/query?query=up'`
 * curlExample(credentialSpec("metrics"), "secrets", "secrets/ca.crt"); // the stack over HTTPS
 * // `curl --cacert secrets/ca.crt -u "metrics:$(cat secrets/metrics_password)" https://127.0.0.1:8000/metrics`
 * ```
 */
export function curlExample(spec: CredentialSpec, dir: string, caFile?: string): string {
  const passwordPath = shellQuote(joinPath(dir, spec.passwordFile));
  const parts = ["curl", ...(caFile ? [`--cacert ${shellQuote(caFile)}`] : []), `-u "${spec.user}:$(cat ${passwordPath})"`];
  if (spec.method === "POST") {
    parts.push("-H 'Content-Type: application/json'");
    parts.push(`-d ${shellQuote(spec.body ?? "{}")}`);
  }
  parts.push(shellQuote(caFile ? spec.url.replace(/^http:/, "https:") : spec.url));
  return parts.join(" ");
}

// POSIX joining is enough: the result is shown in a shell command, and the
// module stays free of node:path so it is plain data on any runtime.
function joinPath(dir: string, file: string): string {
  if (dir === "" || dir === ".") return file;
  return dir.endsWith("/") ? `${dir}${file}` : `${dir}/${file}`;
}

/** What {@linkcode renderCredentialsReference} describes. */
export interface CredentialsReferenceInput {
  /** The secrets folder as the reader should type it (relative to the repository root when inside it). */
  dir: string;
  credentials: readonly CredentialSpec[];
}

// A table cell cannot hold "|" or a line break.
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * The markdown of `CREDENTIALS.md`: for each credential who uses it, the
 * user, the file holding the password, what it opens and a curl example that
 * reads the file. It takes no password, so it cannot print one.
 *
 * @example
 * ```ts
 * const markdown = renderCredentialsReference({ dir: "secrets", credentials: STACK_CREDENTIALS });
 * markdown.includes('curl -u "metrics:$(cat secrets/metrics_password)"'); // true
 * ```
 */
export function renderCredentialsReference(input: CredentialsReferenceInput): string {
  const { dir, credentials } = input;
  const at = (file: string) => `\`${joinPath(dir, file)}\``;
  const out: string[] = [
    "# Credentials of the ETL monitoring stack",
    "",
    "Generated by `npm run secrets`; do not edit (run it again instead). This file names",
    "where each password is and never holds one. Every file here is mode 0600 in a",
    "0700 folder, git-ignored. Running `npm run secrets` again keeps every password;",
    "`npm run secrets -- --rotate` replaces them all, `--rotate NAME` one of them.",
    "",
    "| name | user | password file | hash checked from | opens | used by |",
    "|---|---|---|---|---|---|",
  ];
  for (const c of credentials) {
    const hash = c.hash.kind === "file"
      ? at(c.hash.file)
      : c.hash.kind === "prometheus-web-config"
      ? at(PROMETHEUS_WEB_CONFIG_FILE)
      : "(Grafana's database)";
    out.push(`| \`${c.name}\` | \`${c.user}\` | ${at(c.passwordFile)} | ${hash} | ${cell(c.opens)} | ${cell(c.usedBy)} |`);
  }
  for (const c of credentials) {
    out.push(
      "",
      `## \`${c.name}\`: ${c.opens}`,
      "",
      `- user: \`${c.user}\``,
      `- password: in ${at(c.passwordFile)}`,
      `- used by: ${c.usedBy}`,
      `- checked by: ${c.checkedBy}`,
      `- URL: <${c.url}>`,
      `- ${c.notes.replaceAll("{passwordFile}", shellQuote(joinPath(dir, c.passwordFile)))}`,
      "",
      "```sh",
      curlExample(c, dir),
      "```",
    );
  }
  out.push(
    "",
    `Prometheus runs with \`--web.config.file=${joinPath(dir, PROMETHEUS_WEB_CONFIG_FILE)}\`;`,
    "`promtool check web-config` checks that file.",
  );
  return `${out.join("\n")}\n`;
}
