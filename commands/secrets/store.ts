/**
 * Creates and keeps the stack's secrets folder (the I/O side of
 * `lib/secrets/secrets_layout.ts`): random passwords, their bcrypt hashes,
 * Prometheus's web config and the `CREDENTIALS.md` reference.
 *
 * Passwords are the only state: an existing one is kept byte for byte unless
 * rotated, while everything derived from them (hashes, the web config, the
 * reference) is checked on every run and rewritten when missing or stale, so
 * a run interrupted half way is repaired by the next one. Every write goes
 * to a temporary file renamed into place (0600, in a 0700 folder).
 *
 * @example
 * ```ts
 * import { ensureStackSecrets } from "./store.ts";
 * const summary = await ensureStackSecrets("secrets");
 * for (const c of summary.credentials) console.log(c.name, c.password, c.hash);
 * ```
 * @module
 */
import { chmod } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import process from "node:process";
import bcrypt from "bcryptjs";
import { hashMatches, requireBcryptCost } from "../../lib/secrets/dev_credentials.ts";
import {
  ensureHashFile,
  ensurePasswordFile,
  ensureSecretsDir,
  readSecretFileIfPresent,
  SECRET_FILE_MODE,
  writeSecretFile,
} from "../../workers/secret_files.ts";
import { ensureIngestToken } from "../../workers/ingest_token.ts";
import {
  type CredentialName,
  type CredentialSpec,
  CREDENTIALS_REFERENCE_FILE,
  parsePrometheusWebConfigUsers,
  PROMETHEUS_WEB_CONFIG_FILE,
  renderCredentialsReference,
  renderPrometheusWebConfig,
  STACK_CREDENTIALS,
  type WebConfigUser,
} from "../../lib/secrets/secrets_layout.ts";

// A generated password is 43 characters (32 bytes); one shorter than 24
// bytes' worth was set by hand and is worth a warning, not a replacement.
const WEAK_BELOW_CHARACTERS = 32;

/**
 * Options of {@linkcode ensureStackSecrets}.
 *
 * @example
 * ```ts
 * const options: StackSecretsOptions = { rotate: ["grafana_admin"], cost: 10 };
 * ```
 */
export interface StackSecretsOptions {
  /** `true` replaces every password, a list only those named. Default: keep them all. */
  rotate?: boolean | readonly CredentialName[];
  /** bcrypt cost of new hashes, 4–31. Default 10. */
  cost?: number;
  /**
   * How `CREDENTIALS.md` names the folder in its paths and commands. Default:
   * `dir` relative to the working directory when inside it, else absolute.
   */
  referenceDir?: string;
  /** The credentials to manage. Default {@linkcode STACK_CREDENTIALS}. */
  credentials?: readonly CredentialSpec[];
}

/**
 * What happened to one credential: its password was `created` (none
 * before), `rotated` or `kept`; its hash `created`, `regenerated` (stale or
 * replaced with the password), `kept`, or `none` (Grafana keeps its own).
 *
 * @example
 * ```ts
 * const outcome: CredentialOutcome = {
 *   name: "metrics", user: "metrics", passwordFile: "secrets/metrics_password",
 *   password: "kept", hash: "kept", weak: false,
 * };
 * ```
 */
export interface CredentialOutcome {
  name: CredentialName;
  user: string;
  passwordFile: string;
  password: "created" | "rotated" | "kept";
  hash: "created" | "regenerated" | "kept" | "none";
  /** The password is shorter than a generated one: probably set by hand. */
  weak: boolean;
}

/**
 * What happened to a generated file: `created`, `updated`, or `unchanged`.
 *
 * @example
 * ```ts
 * const outcome: FileOutcome = "unchanged";
 * ```
 */
export type FileOutcome = "created" | "updated" | "unchanged";

/**
 * The result of {@linkcode ensureStackSecrets}: paths are `dir` joined with
 * the layout's file names.
 *
 * @example
 * ```ts
 * const summary: StackSecretsSummary = await ensureStackSecrets("secrets");
 * console.log(`reference: ${summary.referenceFile} (${summary.reference})`);
 * ```
 */
export interface StackSecretsSummary {
  dir: string;
  credentials: CredentialOutcome[];
  webConfigFile: string;
  webConfig: FileOutcome;
  referenceFile: string;
  reference: FileOutcome;
}

function shouldRotate(rotate: StackSecretsOptions["rotate"], name: CredentialName): boolean {
  return rotate === true || (Array.isArray(rotate) && rotate.includes(name));
}

/** Writes `content` unless the file already holds exactly it; either way the mode ends 0600. */
async function writeIfChanged(file: string, content: string): Promise<FileOutcome> {
  const existing = await readSecretFileIfPresent(file, { what: "generated" });
  if (existing === content) {
    await chmod(file, SECRET_FILE_MODE);
    return "unchanged";
  }
  await writeSecretFile(file, content);
  return existing === null ? "created" : "updated";
}

/**
 * The default of {@linkcode StackSecretsOptions.referenceDir}: a path the
 * reader can type from the working directory.
 *
 * @example
 * ```ts
 * referencePath("/repo/secrets", "/repo"); // "secrets"
 * referencePath("/elsewhere/s", "/repo"); // "/elsewhere/s"
 * ```
 */
export function referencePath(dir: string, cwd: string): string {
  const absolute = resolve(cwd, dir);
  const inside = relative(cwd, absolute);
  if (inside === "") return ".";
  return inside.startsWith("..") || isAbsolute(inside) ? absolute : inside;
}

/**
 * Makes sure `dir` holds every credential of the stack (see
 * `lib/secrets/secrets_layout.ts` for the layout): keeps existing passwords unless
 * rotated, makes the missing ones with a CSPRNG, and brings every hash,
 * `prometheus-web.yml` and `CREDENTIALS.md` in line with them. Throws an
 * Error naming the file when a read or write fails.
 *
 * @example
 * ```ts
 * const first = await ensureStackSecrets("secrets");
 * const again = await ensureStackSecrets("secrets");
 * again.credentials.every((c) => c.password === "kept"); // true
 * await ensureStackSecrets("secrets", { rotate: ["prometheus_readonly"] });
 * ```
 */
export async function ensureStackSecrets(dir: string, options: StackSecretsOptions = {}): Promise<StackSecretsSummary> {
  const { rotate = false, cost = 10, credentials = STACK_CREDENTIALS } = options;
  requireBcryptCost(cost);
  const referenceDir = options.referenceDir ?? referencePath(dir, process.cwd());
  const webConfigFile = join(dir, PROMETHEUS_WEB_CONFIG_FILE);
  const referenceFile = join(dir, CREDENTIALS_REFERENCE_FILE);

  await ensureSecretsDir(dir);
  const previousWebUsers = parsePrometheusWebConfigUsers((await readSecretFileIfPresent(webConfigFile, { what: "web config" })) ?? "");
  const webUsers: WebConfigUser[] = [];
  const outcomes: CredentialOutcome[] = [];

  for (const spec of credentials) {
    const passwordFile = join(dir, spec.passwordFile);
    const hashFile = spec.hash.kind === "file" ? join(dir, spec.hash.file) : null;
    const { password, status } = await ensurePasswordFile(passwordFile, {
      rotate: shouldRotate(rotate, spec.name),
      invalidates: hashFile === null ? [] : [hashFile],
    });
    const reuse = status === "kept";
    let hash: CredentialOutcome["hash"] = "none";
    if (hashFile !== null) {
      hash = (await ensureHashFile(hashFile, password, { cost, reuse })).status;
      // A rotation removed the old hash first, so "created" would hide that one was replaced.
      if (status === "rotated" && hash === "created") hash = "regenerated";
    } else if (spec.hash.kind === "prometheus-web-config") {
      const previous = previousWebUsers.get(spec.user);
      if (previous !== undefined && reuse && (await hashMatches(password, previous))) {
        webUsers.push({ user: spec.user, hash: previous });
        hash = "kept";
      } else {
        webUsers.push({ user: spec.user, hash: await bcrypt.hash(password, cost) });
        hash = previous === undefined ? "created" : "regenerated";
      }
    }
    outcomes.push({
      name: spec.name,
      user: spec.user,
      passwordFile,
      password: status,
      hash,
      weak: password.length < WEAK_BELOW_CHARACTERS,
    });
  }

  // The push endpoint's bearer token: hashed with SHA-256, not bcrypt (it is random, and checked per request).
  if (credentials === STACK_CREDENTIALS) await ensureIngestToken(dir, { rotate: rotate === true });

  // Rendering throws before anything is written when a hash is malformed.
  const webConfig = webUsers.length > 0 ? await writeIfChanged(webConfigFile, renderPrometheusWebConfig(webUsers)) : "unchanged";
  const reference = await writeIfChanged(referenceFile, renderCredentialsReference({ dir: referenceDir, credentials }));
  return { dir, credentials: outcomes, webConfigFile, webConfig, referenceFile, reference };
}
