/**
 * Random credentials for the simulator's `/metrics` in development, so none
 * are ever fixed in the repository: the dev command creates them on first run
 * in a git-ignored folder, and the simulator reads the bcrypt hash from there.
 *
 * Layout of `dir` (mode 0700):
 * - `metrics_password`: the password, no trailing newline (mode 0600), for
 *   `curl -u "metrics:$(cat <dir>/metrics_password)"` and Prometheus'
 *   `password_file`;
 * - `metrics_password.bcrypt`: its bcrypt hash (mode 0600), all the server needs.
 *
 * The hash is derived data: when it is missing, unreadable or does not match
 * the password (the password was edited by hand, or a rotation stopped half
 * way) it is made again from the password. Files are written to a temporary
 * name and renamed, so a reader never sees half a file.
 *
 * @example
 * ```ts
 * import { ensureDevCredentials, readPasswordHash } from "./dev_credentials.ts";
 * const creds = await ensureDevCredentials("secrets");
 * if (creds.created) console.log(`New password in ${creds.passwordFile}`);
 * const passwordHash = await readPasswordHash(creds.hashFile);
 * ```
 * @module
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { isBcryptHash } from "./credential_verifier.ts";

/** File name of the password inside the credentials folder. */
export const PASSWORD_FILE_NAME = "metrics_password";
/** File name of the password's bcrypt hash inside the credentials folder. */
export const HASH_FILE_NAME = "metrics_password.bcrypt";

// 32 random bytes are 256 bits and 43 base64url characters: well inside
// bcrypt's 72-byte limit and safe in a shell, a URL and a YAML file.
const PASSWORD_BYTES = 32;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Options of {@linkcode ensureDevCredentials}.
 *
 * @example
 * ```ts
 * const options: DevCredentialOptions = { cost: 12, rotate: true };
 * ```
 */
export interface DevCredentialOptions {
  /** The user name reported back (it is not stored). Default `"metrics"`. */
  user?: string;
  /** bcrypt cost of a new hash, 4–31. Default 10 (~70 ms per check). */
  cost?: number;
  /** Replace an existing password with a new random one. Default false. */
  rotate?: boolean;
}

/**
 * Where the credentials are, and whether the password was made by this call.
 *
 * @example
 * ```ts
 * const { user, passwordFile, created } = await ensureDevCredentials("secrets");
 * if (created) console.log(`curl -u "${user}:$(cat ${passwordFile})" http://127.0.0.1:8082/metrics`);
 * ```
 */
export interface DevCredentials {
  user: string;
  passwordFile: string;
  hashFile: string;
  /** True when a new password was generated (first run, rotation, or an empty password file). */
  created: boolean;
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

// Editors add a newline at the end of a file; `$(cat file)` would drop it too.
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (isMissing(error)) {
      throw new Error(`${what} file not found: ${file} (the dev command creates it)`, { cause: error });
    }
    throw new Error(`cannot read ${what} file ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Reads a password file. One trailing newline is dropped, as `$(cat file)`
 * in a shell would, because editors add one; anything else is kept.
 * Throws a clear error when the file is missing or empty.
 *
 * @example
 * ```ts
 * const password = await readPassword("secrets/metrics_password");
 * ```
 */
export async function readPassword(file: string): Promise<string> {
  const password = withoutFinalNewline(await readText(file, "password"));
  if (password.length === 0) throw new Error(`password file is empty: ${file}`);
  return password;
}

/**
 * Reads a bcrypt hash file (surrounding whitespace ignored). Throws a clear
 * error when the file is missing, empty, or does not hold a bcrypt hash; the
 * error never quotes the content, which may be a misplaced password.
 *
 * @example
 * ```ts
 * const passwordHash = await readPasswordHash("secrets/metrics_password.bcrypt");
 * passwordHash.startsWith("$2"); // true
 * ```
 */
export async function readPasswordHash(file: string): Promise<string> {
  const hash = (await readText(file, "password hash")).trim();
  if (hash.length === 0) throw new Error(`password hash file is empty: ${file}`);
  if (!isBcryptHash(hash)) {
    throw new Error(`password hash file does not hold a bcrypt hash ($2b$<cost>$ + 53 characters): ${file}`);
  }
  return hash;
}

/** Writes a 0600 file by rename, so readers see the old content or the new, never a part. */
async function writeSecret(file: string, content: string): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  // "wx" refuses to follow or reuse anything already at the temporary name.
  const handle = await open(temporary, "wx", FILE_MODE);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The umask may have cleared bits of FILE_MODE; the mode must be exact.
    await chmod(temporary, FILE_MODE);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The existing password, or null when there is none worth keeping. */
async function existingPassword(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (isMissing(error)) return null;
    throw new Error(`cannot read password file ${file}: ${(error as Error).message}`, { cause: error });
  }
  // An empty password is never usable, so nothing is lost by replacing it.
  const password = withoutFinalNewline(text);
  return password.length === 0 ? null : password;
}

/** The existing hash when it checks the password, else null. */
async function matchingHash(file: string, password: string): Promise<string | null> {
  let hash: string;
  try {
    hash = await readPasswordHash(file);
  } catch {
    return null;
  }
  try {
    return (await bcrypt.compare(password, hash)) ? hash : null;
  } catch {
    return null;
  }
}

/**
 * Makes sure `dir` holds a password and its bcrypt hash, creating `dir`
 * (mode 0700) and a random password when missing, and keeping an existing
 * password unless `rotate`. Existing files and `dir` are set to 0600/0700
 * again, since the folder is meant for these secrets alone.
 *
 * @example
 * ```ts
 * const creds = await ensureDevCredentials("secrets", { rotate: process.argv.includes("--rotate") });
 * console.log(`/metrics password in ${creds.passwordFile}`);
 * console.log(`curl -u "${creds.user}:$(cat ${creds.passwordFile})" http://127.0.0.1:8082/metrics`);
 * ```
 */
export async function ensureDevCredentials(dir: string, options: DevCredentialOptions = {}): Promise<DevCredentials> {
  const { user = "metrics", cost = 10, rotate = false } = options;
  if (user.length === 0 || user.includes(":")) {
    throw new Error('user must be a non-empty string without ":" (basic auth cannot send one)');
  }
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) {
    throw new RangeError(`cost must be an integer from 4 to 31, got ${cost}`);
  }
  const passwordFile = join(dir, PASSWORD_FILE_NAME);
  const hashFile = join(dir, HASH_FILE_NAME);

  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);

  let password = rotate ? null : await existingPassword(passwordFile);
  const created = password === null;
  if (password === null) {
    // The old hash goes first: if we stop before writing the new one, the
    // next run finds no hash and makes it from whichever password is there.
    await rm(hashFile, { force: true });
    password = randomBytes(PASSWORD_BYTES).toString("base64url");
    await writeSecret(passwordFile, password);
  } else {
    await chmod(passwordFile, FILE_MODE);
  }

  if (!created && (await matchingHash(hashFile, password)) !== null) {
    await chmod(hashFile, FILE_MODE);
  } else {
    await writeSecret(hashFile, await bcrypt.hash(password, cost));
  }
  return { user, passwordFile, hashFile, created };
}
