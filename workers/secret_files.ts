/**
 * Reading and writing secret files, for every worker and command: one error
 * message for a file that cannot be read, writes that are atomic
 * (`atomic_write.ts`), and the modes of a secrets folder (0700) and its
 * files (0600).
 *
 * The dev credentials live here too: a worker (or `npm run dev`) creates a
 * random password and its bcrypt hash on first run in a git-ignored folder
 * (`lib/secrets/dev_credentials.ts` names the files). The hash is derived
 * data: when it is missing, unreadable or does not match the password (the
 * password was edited by hand, or a rotation stopped half way) it is made
 * again from the password.
 *
 * @module
 */
import { chmod, mkdir, readFile, rm } from "node:fs/promises";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { hash as bcryptHash } from "bcryptjs";
import { isBcryptHash } from "../lib/auth/credential_verifier.ts";
import {
  devCredentialFiles,
  generatePassword,
  hashMatches,
  requireBasicAuthUser,
  requireBcryptCost,
  withoutFinalNewline,
} from "../lib/secrets/dev_credentials.ts";
import { writeFileAtomic } from "./atomic_write.ts";

/** Mode of a secrets folder: only its owner may list or enter it. */
export const SECRET_DIR_MODE = 0o700;
/** Mode of every file in a secrets folder: only its owner may read it. */
export const SECRET_FILE_MODE = 0o600;

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

/**
 * How a secret file is named in an error. A file named by a setting is
 * named by that setting, so the error says what to fix.
 */
export interface SecretFileLabel {
  /** What the file holds, as in "the control password file". Default `"password"`. */
  what?: string;
  /** How to make a missing file, added to "not found". */
  whenMissing?: string;
  /** The setting that named the file (`ETL_RECEIVER_PASSWORD_FILE`): errors start `<setting> <file>:`. */
  setting?: string;
}

function fileError(file: string, label: SecretFileLabel, problem: string, cause?: unknown): Error {
  const where = label.setting ? `${label.setting} ${file}:` : `the ${label.what ?? "password"} file ${file}`;
  return new Error(`${where} ${problem}`, { cause });
}

/**
 * A secret file's text. Throws `cannot read the <what> file <file>: not
 * found (<whenMissing>)` or with the system's reason in place of "not
 * found"; with a setting, `<setting> <file>: <the system's reason>`.
 */
export async function readSecretFile(file: string, label: SecretFileLabel = {}): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as Error).message;
    if (label.setting) throw fileError(file, label, reason, error);
    const why = isMissing(error) ? `not found${label.whenMissing ? ` (${label.whenMissing})` : ""}` : reason;
    throw new Error(`cannot read the ${label.what ?? "password"} file ${file}: ${why}`, { cause: error });
  }
}

/** A secret file's text, or null when there is no such file; other errors as {@linkcode readSecretFile}. */
export async function readSecretFileIfPresent(file: string, label: SecretFileLabel = {}): Promise<string | null> {
  try {
    return await readSecretFile(file, label);
  } catch (error) {
    if (isMissing((error as Error).cause)) return null;
    throw error;
  }
}

/**
 * The password a password file's text holds: one trailing newline dropped,
 * as `$(cat file)` in a shell would, because editors add one; anything else
 * kept. Throws when it is empty.
 */
export function passwordOf(text: string, file: string, label: SecretFileLabel = {}): string {
  const password = withoutFinalNewline(text);
  if (password.length === 0) throw fileError(file, label, label.setting ? "the file is empty" : "is empty");
  return password;
}

/** Reads a password file (see {@linkcode passwordOf}); throws when it is missing, unreadable or empty. */
export async function readPassword(file: string, label: SecretFileLabel = {}): Promise<string> {
  return passwordOf(await readSecretFile(file, label), file, label);
}

/**
 * The bcrypt hash a hash file's text holds (surrounding whitespace
 * ignored). Throws when it is empty or not a bcrypt hash; the error never
 * quotes the content, which may be a misplaced password.
 */
export function passwordHashOf(text: string, file: string, label: SecretFileLabel = {}): string {
  const hash = text.trim();
  if (hash.length === 0) throw fileError(file, label, label.setting ? "the file is empty" : "is empty");
  if (!isBcryptHash(hash)) throw fileError(file, label, "does not hold a bcrypt hash ($2b$<cost>$ + 53 characters)");
  return hash;
}

/** Reads a bcrypt hash file (see {@linkcode passwordHashOf}). */
export async function readPasswordHash(file: string, label: SecretFileLabel = {}): Promise<string> {
  const labelled = { ...label, what: label.what ?? "password hash" };
  return passwordHashOf(await readSecretFile(file, labelled), file, labelled);
}

/**
 * Creates `dir` when missing and sets it to 0700, also when it already
 * existed with looser bits, since the folder is meant for secrets alone.
 */
export async function ensureSecretsDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: SECRET_DIR_MODE });
  // mkdir leaves an existing folder as it is, and the umask trims a new one.
  await chmod(dir, SECRET_DIR_MODE);
}

/** Writes a secret file atomically with mode 0600. */
export function writeSecretFile(file: string, content: string): Promise<void> {
  return writeFileAtomic(file, content, { mode: SECRET_FILE_MODE });
}

/** Options of {@linkcode ensurePasswordFile}. */
export interface EnsurePasswordOptions {
  /** Replace an existing password with a new random one. Default false. */
  rotate?: boolean;
  /**
   * Files derived from the password (its hash), removed before a new
   * password is written: a server then fails to start rather than accept
   * the old password if we stop half way.
   */
  invalidates?: readonly string[];
}

/** What {@linkcode ensurePasswordFile} did: `created` when there was no usable password (missing or empty file). */
export interface EnsuredPassword {
  password: string;
  status: "created" | "rotated" | "kept";
}

/**
 * Makes sure `file` holds a password: keeps a non-empty one (setting it to
 * 0600) unless `rotate`, else writes a new random one. The folder must exist.
 */
export async function ensurePasswordFile(file: string, options: EnsurePasswordOptions = {}): Promise<EnsuredPassword> {
  const { rotate = false, invalidates = [] } = options;
  const password = withoutFinalNewline((await readSecretFileIfPresent(file)) ?? "");
  // An empty password is never usable, so nothing is lost by replacing it.
  const existing = password.length === 0 ? null : password;
  if (existing !== null && !rotate) {
    await chmod(file, SECRET_FILE_MODE);
    return { password: existing, status: "kept" };
  }
  for (const derived of invalidates) await rm(derived, { force: true });
  const made = generatePassword();
  await writeSecretFile(file, made);
  return { password: made, status: existing === null ? "created" : "rotated" };
}

/** Options of {@linkcode ensureHashFile}. */
export interface EnsureHashOptions {
  /** bcrypt cost of a new hash, 4–31. Default 10. */
  cost?: number;
  /** Keep an existing hash that matches the password. Default true; false after a new password. */
  reuse?: boolean;
}

/** What {@linkcode ensureHashFile} did: `regenerated` when the file held something else, or reuse was off. */
export interface EnsuredHash {
  hash: string;
  status: "created" | "regenerated" | "kept";
}

/**
 * Makes sure `file` holds a bcrypt hash of `password`: keeps one that
 * matches (setting it to 0600), else writes a new one. The hash is derived
 * data, so replacing it loses nothing.
 */
export async function ensureHashFile(file: string, password: string, options: EnsureHashOptions = {}): Promise<EnsuredHash> {
  const { cost = 10, reuse = true } = options;
  requireBcryptCost(cost);
  let existing: string | null = null;
  try {
    existing = (await readSecretFileIfPresent(file))?.trim() ?? null;
  } catch {
    // An unreadable hash is as good as a wrong one: it is replaced, not fatal.
    existing = "";
  }
  if (existing !== null && reuse && (await hashMatches(password, existing))) {
    await chmod(file, SECRET_FILE_MODE);
    return { hash: existing, status: "kept" };
  }
  const hash = await bcryptHash(password, cost);
  await writeSecretFile(file, hash);
  return { hash, status: existing === null ? "created" : "regenerated" };
}

/** Options of {@linkcode ensureDevCredentials}. */
export interface DevCredentialOptions {
  /** The user name reported back (it is not stored). Default `"metrics"`. */
  user?: string;
  /** Which credential (see `devCredentialFiles`). Default `"metrics"`. */
  name?: string;
  /** bcrypt cost of a new hash, 4–31. Default 10 (~70 ms per check). */
  cost?: number;
  /** Replace an existing password with a new random one. Default false. */
  rotate?: boolean;
}

/** Where the credentials are, and whether the password was made by this call. */
export interface DevCredentials {
  user: string;
  passwordFile: string;
  hashFile: string;
  /** True when a new password was generated (first run, rotation, or an empty password file). */
  created: boolean;
}

/**
 * Makes sure `dir` holds a password and its bcrypt hash, creating `dir`
 * (mode 0700) and a random password when missing, and keeping an existing
 * password unless `rotate`. Existing files and `dir` are set to 0600/0700
 * again, since the folder is meant for these secrets alone.
 *
 * @example
 * ```ts
 * const control = await ensureDevCredentials("secrets", { user: "control", name: "control" });
 * control.passwordFile; // "secrets/control_password"
 * ```
 */
export async function ensureDevCredentials(dir: string, options: DevCredentialOptions = {}): Promise<DevCredentials> {
  const { user = "metrics", name = "metrics", cost = 10, rotate = false } = options;
  requireBasicAuthUser(user);
  requireBcryptCost(cost);
  // Checked before the folder is made, like the other options.
  const { passwordFile, hashFile } = devCredentialFiles(dir, name);

  await ensureSecretsDir(dir);
  const { password, status } = await ensurePasswordFile(passwordFile, { rotate, invalidates: [hashFile] });
  const created = status !== "kept";
  await ensureHashFile(hashFile, password, { cost, reuse: !created });
  return { user, passwordFile, hashFile, created };
}
