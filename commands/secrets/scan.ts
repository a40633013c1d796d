/**
 * Looks through a git repository's tracked files for secrets that must never
 * be committed: bcrypt hashes, private keys, basic-auth headers, passwords
 * written as literals in configuration files, well-known token formats, and
 * the exact passwords of a local secrets folder.
 *
 * Findings say where and what kind, never the secret itself: they end up in
 * test output and CI logs.
 *
 * @example
 * ```ts
 * import { readKnownSecrets, scanTrackedFiles } from "./scan.ts";
 * const known = await readKnownSecrets(["secrets"]);
 * const { findings } = await scanTrackedFiles(".", known);
 * for (const f of findings) console.log(`${f.file}:${f.line} ${f.kind}: ${f.detail}`);
 * ```
 * @module
 */
import type { Buffer } from "node:buffer";
import { execFile } from "node:child_process";
import { lstat, readdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import process from "node:process";
import { withoutFinalNewline } from "../../lib/secrets/dev_credentials.ts";
import { readSecretFile } from "../../workers/secret_files.ts";

/**
 * The kinds of finding.
 *
 * @example
 * ```ts
 * const kind: SecretKind = "bcrypt-hash";
 * ```
 */
export type SecretKind =
  | "bcrypt-hash"
  | "private-key"
  | "basic-auth-header"
  | "url-credentials"
  | "token"
  | "password-literal"
  | "local-secret";

/**
 * One finding: the file (as git names it), the 1-based line, and a detail
 * that points at the secret without repeating it.
 *
 * @example
 * ```ts
 * const finding: SecretFinding = { file: "prometheus/web.yml", line: 3, kind: "bcrypt-hash", detail: "$2b$10$N9q…" };
 * ```
 */
export interface SecretFinding {
  file: string;
  line: number;
  kind: SecretKind;
  detail: string;
}

/**
 * A secret whose exact text must not appear anywhere: `label` says where it
 * came from (the file), `value` is the secret.
 *
 * @example
 * ```ts
 * const known: KnownSecret = { label: "secrets/metrics_password", value: password };
 * ```
 */
export interface KnownSecret {
  label: string;
  value: string;
}

/**
 * Known secrets shorter than this are not looked for: they would match
 * ordinary words ("admin") all over the repository. Every generated password
 * is 43 characters; {@linkcode readKnownSecrets} reports shorter ones apart.
 *
 * @example
 * ```ts
 * password.length >= MIN_KNOWN_SECRET_CHARACTERS;
 * ```
 */
export const MIN_KNOWN_SECRET_CHARACTERS = 12;

interface LinePattern {
  kind: Exclude<SecretKind, "password-literal" | "local-secret">;
  pattern: RegExp;
  /** What to show of the match: a prefix short enough to reveal nothing. */
  show: (match: string) => string;
  /** Drops look-alikes that cannot be a secret; absent means every match counts. */
  keep?: (match: string) => boolean;
}

const prefix = (n: number) => (match: string) => `${match.slice(0, n)}…`;

// Every pattern is built so that its own source text does not match it,
// which keeps this file (and its tests) clean under the scan.
const LINE_PATTERNS: readonly LinePattern[] = [
  { kind: "bcrypt-hash", pattern: /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/g, show: prefix(10) },
  // Shown without its dashes, so a test can expect the detail literally.
  { kind: "private-key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/g, show: (m) => `${m.replaceAll("-", "")} block` },
  {
    kind: "basic-auth-header",
    pattern: /Authorization["'`]?\s*[:=,]\s*["'`]?\s*Basic\s+[A-Za-z0-9+/]{4,}={0,2}/gi,
    show: () => "Authorization: Basic <base64 credentials>",
    // Real credentials decode to "user:password"; prose such as "Basic literals" does not.
    keep: (m) => atobOrEmpty(/Basic\s+(\S+)$/i.exec(m)?.[1] ?? "").includes(":"),
  },
  {
    kind: "url-credentials",
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"`<>{}$]+:[^\s/@'"`<>{}$]+@[^\s/'"`]+/gi,
    show: (m) => m.replace(/:\/\/([^:]+):[^@]+@/, "://$1:***@"),
    // A password already masked as *** is a placeholder, not a secret.
    keep: (m) => !/:\/\/[^:]+:\*+@/.test(m),
  },
  { kind: "token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, show: prefix(6) },
  { kind: "token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, show: prefix(6) },
  { kind: "token", pattern: /\bAKIA[0-9A-Z]{16}\b/g, show: prefix(6) },
  { kind: "token", pattern: /\bglsa_[A-Za-z0-9]{32}_[0-9a-f]{8}\b/g, show: prefix(7) },
  { kind: "token", pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g, show: prefix(8) },
  { kind: "token", pattern: /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+/g, show: prefix(26) },
];

/**
 * Tells whether a file is configuration whose `password` keys are checked
 * for literal values: YAML, JSON and environment files.
 *
 * @example
 * ```ts
 * isConfigFile("grafana/provisioning/datasources/prometheus.yml"); // true
 * isConfigFile(".env.local"); // true
 * isConfigFile("lib/etl/events.ts"); // false
 * ```
 */
export function isConfigFile(file: string): boolean {
  const name = basename(file).toLowerCase();
  return [".yml", ".yaml", ".json", ".env"].includes(extname(name)) || name === ".env" || name.startsWith(".env.");
}

// A key that names a password (admin_password, GF_SECURITY_ADMIN_PASSWORD,
// basicAuthPassword, passwd), as a YAML/JSON key, a "- KEY=value" list item
// or an env line. Keys that only end in _file/__FILE are references, so the
// key must end with the word itself.
const PASSWORD_ASSIGNMENT =
  /^\s*(?:-\s+)?(?:export\s+)?["']?([A-Za-z0-9_.-]*(?:password|passwd))["']?\s*[:=]\s*(.*)$/i;

/** The value with its quotes, a trailing comma and a YAML/env comment removed. */
function bareValue(raw: string): string {
  let value = raw.trim().replace(/,$/, "").trim();
  const quoted = /^(["'])(.*)\1$/.exec(value);
  if (quoted) return quoted[2]!;
  value = value.replace(/\s+#.*$/, "");
  return value.trim();
}

/**
 * Tells whether a password value in a configuration file is not a literal:
 * empty, null, a file reference (`$__file{…}`, Grafana's), or a whole
 * environment variable (`${VAR}`, `$VAR`) with no default after it.
 *
 * @example
 * ```ts
 * isPasswordReference("$__file{/run/secrets/grafana_admin_password}"); // true
 * isPasswordReference("${GF_PASSWORD}"); // true
 * isPasswordReference("${GF_PASSWORD:-admin}"); // false: a default is a literal
 * isPasswordReference("admin"); // false
 * ```
 */
export function isPasswordReference(value: string): boolean {
  const v = bareValue(value);
  if (v === "" || v === "~" || v === "null" || v === "{}" || v === "|" || v === ">") return true;
  if (v.includes("$__file{")) return true;
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v) || /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(v);
}

/**
 * The findings in one file's text. Pure: `file` is only reported, and
 * `known` is the list of exact secrets to look for.
 *
 * @example
 * ```ts
 * findSecretsInText("grafana.env", "GF_SECURITY_ADMIN_PASSWORD=admin\n");
 * // [{ file: "grafana.env", line: 1, kind: "password-literal", detail: "GF_SECURITY_ADMIN_PASSWORD has a literal value" }]
 * ```
 */
export function findSecretsInText(file: string, text: string, known: readonly KnownSecret[] = []): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const checkPasswords = isConfigFile(file);
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const at = { file, line: index + 1 };
    for (const { kind, pattern, show, keep } of LINE_PATTERNS) {
      for (const match of line.matchAll(pattern)) {
        if (keep === undefined || keep(match[0])) findings.push({ ...at, kind, detail: show(match[0]) });
      }
    }
    if (checkPasswords) {
      const assignment = PASSWORD_ASSIGNMENT.exec(line);
      if (assignment && !isPasswordReference(assignment[2]!)) {
        findings.push({ ...at, kind: "password-literal", detail: `${assignment[1]} has a literal value` });
      }
    }
  });
  for (const secret of known) {
    if (secret.value.length < MIN_KNOWN_SECRET_CHARACTERS) continue;
    let from = text.indexOf(secret.value);
    while (from !== -1) {
      const line = text.slice(0, from).split("\n").length;
      findings.push({ file, line, kind: "local-secret", detail: `the content of ${secret.label}` });
      from = text.indexOf(secret.value, from + secret.value.length);
    }
  }
  return findings;
}

function git(repoDir: string, args: string[]): Promise<string> {
  // A GIT_DIR or GIT_INDEX_FILE inherited from a hook would point git at
  // another repository than repoDir.
  const env = { ...process.env };
  for (const name of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX"]) delete env[name];
  return new Promise((done, fail) => {
    execFile("git", args, { cwd: repoDir, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`git ${args.join(" ")} in ${repoDir} failed: ${stderr.trim() || error.message}`));
      else done(stdout);
    });
  });
}

/**
 * The files git tracks in `repoDir` (`git ls-files`), relative to it.
 *
 * @example
 * ```ts
 * const files = await listTrackedFiles(".");
 * files.includes("package.json"); // true
 * ```
 */
export async function listTrackedFiles(repoDir: string): Promise<string[]> {
  const out = await git(repoDir, ["ls-files", "-z", "--cached", "--full-name"]);
  return [...new Set(out.split("\0").filter((name) => name !== ""))];
}

/**
 * What {@linkcode readKnownSecrets} found.
 *
 * @example
 * ```ts
 * const { secrets, tooShort } = await readKnownSecrets(["secrets"]);
 * ```
 */
export interface KnownSecrets {
  secrets: KnownSecret[];
  /** Files whose content is too short to look for without false alarms. */
  tooShort: string[];
}

/**
 * Reads every `*_password` file of the given folders (missing folders are
 * skipped), to look for their exact content in tracked files.
 *
 * @example
 * ```ts
 * const { secrets } = await readKnownSecrets(["secrets", process.env.ETL_SECRETS_DIR ?? ""]);
 * ```
 */
export async function readKnownSecrets(dirs: readonly string[]): Promise<KnownSecrets> {
  const secrets: KnownSecret[] = [];
  const tooShort: string[] = [];
  for (const dir of new Set(dirs.filter((d) => d !== ""))) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") continue;
      throw error;
    }
    for (const name of names.filter((n) => n.endsWith("_password")).sort()) {
      const file = join(dir, name);
      if (!(await lstat(file)).isFile()) continue;
      // As `$(cat file)` reads it: a final newline is not part of the password.
      const value = withoutFinalNewline(await readSecretFile(file));
      if (value.length >= MIN_KNOWN_SECRET_CHARACTERS) secrets.push({ label: file, value });
      else if (value.length > 0) tooShort.push(file);
    }
  }
  return { secrets, tooShort };
}

/**
 * What {@linkcode scanTrackedFiles} did.
 *
 * @example
 * ```ts
 * const { scanned, skipped, findings } = await scanTrackedFiles(".");
 * ```
 */
export interface ScanResult {
  /** Files read. */
  scanned: number;
  /** Tracked files not read: missing from the working tree, not regular files, or binary. */
  skipped: string[];
  findings: SecretFinding[];
}

/**
 * Scans the working-tree content of every file git tracks in `repoDir`.
 * Files tracked but missing (deleted, not yet committed), symbolic links,
 * submodules and binary files are skipped and listed.
 *
 * @example
 * ```ts
 * const { findings } = await scanTrackedFiles(".", (await readKnownSecrets(["secrets"])).secrets);
 * if (findings.length > 0) process.exitCode = 1;
 * ```
 */
export async function scanTrackedFiles(repoDir: string, known: readonly KnownSecret[] = []): Promise<ScanResult> {
  const skipped: string[] = [];
  const findings: SecretFinding[] = [];
  let scanned = 0;
  for (const file of await listTrackedFiles(repoDir)) {
    const path = join(repoDir, file);
    let content: Buffer;
    try {
      if (!(await lstat(path)).isFile()) {
        skipped.push(file);
        continue;
      }
      content = await readFile(path);
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") {
        skipped.push(file);
        continue;
      }
      throw error;
    }
    // A NUL byte near the start means binary, as git itself guesses.
    if (content.subarray(0, 8000).includes(0)) {
      skipped.push(file);
      continue;
    }
    scanned++;
    findings.push(...findSecretsInText(file, content.toString("utf8"), known));
  }
  return { scanned, skipped, findings };
}

function atobOrEmpty(base64: string): string {
  try {
    return atob(base64);
  } catch {
    return "";
  }
}
