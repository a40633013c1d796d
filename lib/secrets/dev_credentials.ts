/**
 * Random credentials for development, so none are ever fixed in the
 * repository: the dev command (or the worker that needs one) creates them on
 * first run in a git-ignored folder, and the server reads the bcrypt hash
 * from there. Each credential has a name (`metrics` for the simulator's
 * `/metrics`, `control` for its scenario switch, `receiver` for the webhook
 * receiver), and the folder can hold several side by side.
 *
 * Layout of `dir` (mode 0700), for the credential named `<name>`:
 * - `<name>_password`: the password, no trailing newline (mode 0600), for
 *   `curl -u "metrics:$(cat <dir>/metrics_password)"` and Prometheus'
 *   `password_file`;
 * - `<name>_password.bcrypt`: its bcrypt hash (mode 0600), all the server needs.
 *
 * The hash is derived data: when it is missing, unreadable or does not match
 * the password (the password was edited by hand, or a rotation stopped half
 * way) it is made again from the password. Files are written to a temporary
 * name and renamed, so a reader never sees half a file.
 *
 * The building blocks (`ensureSecretsDir`, `ensurePasswordFile`,
 * `ensureHashFile`, `writeSecretFile`) are exported for
 * `commands/secrets/store.ts`, which applies the same rules to every
 * credential of the stack in the same folder.
 *
 * @example
 * ```ts
 * import { ensureDevCredentials, readPasswordHash } from "./dev_credentials.ts";
 * const creds = await ensureDevCredentials("secrets");
 * if (creds.created) console.log(`New password in ${creds.passwordFile}`);
 * const passwordHash = await readPasswordHash(creds.hashFile);
 * const control = await ensureDevCredentials("secrets", { user: "control", name: "control" });
 * control.passwordFile; // "secrets/control_password"
 * ```
 * @module
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { compare as bcryptCompare, hash as bcryptHash } from "bcryptjs";
import { isBcryptHash } from "../auth/credential_verifier.ts";

/** File name of the `metrics` password inside the credentials folder. */
export const PASSWORD_FILE_NAME = "metrics_password";
/** File name of the `metrics` password's bcrypt hash inside the credentials folder. */
export const HASH_FILE_NAME = "metrics_password.bcrypt";

// A name becomes part of two file names: keep it to a safe, boring alphabet.
const CREDENTIAL_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * The two files of the dev credential named `name` inside `dir`:
 * `<name>_password` and `<name>_password.bcrypt`. Throws on a name that is
 * not lower-case letters, digits, `_` and `-` (it must not reach outside `dir`).
 *
 * @example
 * ```ts
 * devCredentialFiles("secrets", "control");
 * // { passwordFile: "secrets/control_password", hashFile: "secrets/control_password.bcrypt" }
 * devCredentialFiles("secrets").passwordFile; // "secrets/metrics_password"
 * ```
 */
export function devCredentialFiles(dir: string, name = "metrics"): { passwordFile: string; hashFile: string } {
  if (!CREDENTIAL_NAME.test(name)) {
    throw new Error(`credential name must be lower-case letters, digits, "_" or "-", got ${JSON.stringify(name)}`);
  }
  const passwordFile = join(dir, `${name}_password`);
  return { passwordFile, hashFile: `${passwordFile}.bcrypt` };
}

// 32 random bytes are 256 bits and 43 base64url characters: well inside
// bcrypt's 72-byte limit and safe in a shell, a URL and a YAML file.
const PASSWORD_BYTES = 32;
/**
 * Mode of the secrets folder: only its owner may list or enter it.
 *
 * @example
 * ```ts
 * ((await stat("secrets")).mode & 0o777) === SECRET_DIR_MODE;
 * ```
 */
export const SECRET_DIR_MODE = 0o700;
/**
 * Mode of every file in the secrets folder: only its owner may read it.
 *
 * @example
 * ```ts
 * ((await stat("secrets/metrics_password")).mode & 0o777) === SECRET_FILE_MODE;
 * ```
 */
export const SECRET_FILE_MODE = 0o600;

/**
 * Options of {@linkcode ensureDevCredentials}.
 *
 * @example
 * ```ts
 * const options: DevCredentialOptions = { cost: 12, rotate: true };
 * const control: DevCredentialOptions = { user: "control", name: "control" };
 * ```
 */
export interface DevCredentialOptions {
  /** The user name reported back (it is not stored). Default `"metrics"`. */
  user?: string;
  /**
   * Which credential: its files are `<name>_password` and
   * `<name>_password.bcrypt` (see {@linkcode devCredentialFiles}). Default `"metrics"`.
   */
  name?: string;
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

/**
 * A password file's text as the password: editors add a newline at the end
 * of a file, and `$(cat file)` drops it too.
 *
 * @example
 * ```ts
 * withoutFinalNewline("s3cret\n"); // "s3cret"
 * withoutFinalNewline("s3cret\r\n"); // "s3cret"
 * ```
 */
export function withoutFinalNewline(text: string): string {
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

/**
 * Creates `dir` when missing and sets it to 0700, also when it already
 * existed with looser bits, since the folder is meant for secrets alone.
 *
 * @example
 * ```ts
 * await ensureSecretsDir("secrets"); // drwx------
 * ```
 */
export async function ensureSecretsDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: SECRET_DIR_MODE });
  // mkdir leaves an existing folder as it is, and the umask trims a new one.
  await chmod(dir, SECRET_DIR_MODE);
}

/**
 * A new random password: 32 bytes from the operating system's CSPRNG, as 43
 * base64url characters.
 *
 * @example
 * ```ts
 * const password = generatePassword(); // e.g. "q3V…" (43 characters of A–Z a–z 0–9 - _)
 * ```
 */
export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString("base64url");
}

/**
 * Writes a 0600 file by rename, so readers see the old content or the new,
 * never a part, and a crash leaves no half-written secret behind.
 *
 * @example
 * ```ts
 * await writeSecretFile("secrets/grafana_admin_password", generatePassword());
 * ```
 */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  // "wx" refuses to follow or reuse anything already at the temporary name.
  const handle = await open(temporary, "wx", SECRET_FILE_MODE);
  try {
    await handle.writeFile(content, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The umask may have cleared bits of SECRET_FILE_MODE; the mode must be exact.
    await chmod(temporary, SECRET_FILE_MODE);
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

/**
 * Options of {@linkcode ensurePasswordFile}.
 *
 * @example
 * ```ts
 * const options: EnsurePasswordOptions = { rotate: true, invalidates: ["secrets/control_password.bcrypt"] };
 * ```
 */
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

/**
 * What {@linkcode ensurePasswordFile} did: `"created"` when there was no
 * usable password (missing or empty file), `"rotated"` when one was replaced
 * on request, `"kept"` otherwise.
 *
 * @example
 * ```ts
 * const { password, status } = await ensurePasswordFile("secrets/control_password");
 * if (status !== "kept") console.log("new password");
 * ```
 */
export interface EnsuredPassword {
  password: string;
  status: "created" | "rotated" | "kept";
}

/**
 * Makes sure `file` holds a password: keeps a non-empty one (setting it to
 * 0600) unless `rotate`, else writes a new random one. The folder must exist.
 *
 * @example
 * ```ts
 * await ensureSecretsDir("secrets");
 * const { password } = await ensurePasswordFile("secrets/grafana_admin_password");
 * ```
 */
export async function ensurePasswordFile(file: string, options: EnsurePasswordOptions = {}): Promise<EnsuredPassword> {
  const { rotate = false, invalidates = [] } = options;
  const existing = await existingPassword(file);
  if (existing !== null && !rotate) {
    await chmod(file, SECRET_FILE_MODE);
    return { password: existing, status: "kept" };
  }
  for (const derived of invalidates) await rm(derived, { force: true });
  const password = generatePassword();
  await writeSecretFile(file, password);
  return { password, status: existing === null ? "created" : "rotated" };
}

/**
 * Tells whether `hash` is a bcrypt hash of `password`; false, not an error,
 * for anything that is not a bcrypt hash.
 *
 * @example
 * ```ts
 * await hashMatches("s3cret", await bcrypt.hash("s3cret", 4)); // true
 * await hashMatches("s3cret", "garbage"); // false
 * ```
 */
export async function hashMatches(password: string, hash: string): Promise<boolean> {
  if (!isBcryptHash(hash)) return false;
  try {
    return await bcryptCompare(password, hash);
  } catch {
    return false;
  }
}

/**
 * Options of {@linkcode ensureHashFile}.
 *
 * @example
 * ```ts
 * const options: EnsureHashOptions = { cost: 10, reuse: false };
 * ```
 */
export interface EnsureHashOptions {
  /** bcrypt cost of a new hash, 4–31. Default 10. */
  cost?: number;
  /** Keep an existing hash that matches the password. Default true; false after a new password. */
  reuse?: boolean;
}

/**
 * What {@linkcode ensureHashFile} did: `"created"` (no hash file),
 * `"regenerated"` (the file held something else, or reuse was off), `"kept"`.
 *
 * @example
 * ```ts
 * const { hash, status } = await ensureHashFile("secrets/control_password.bcrypt", password);
 * ```
 */
export interface EnsuredHash {
  hash: string;
  status: "created" | "regenerated" | "kept";
}

/**
 * Makes sure `file` holds a bcrypt hash of `password`: keeps one that
 * matches (setting it to 0600), else writes a new one. The hash is derived
 * data, so replacing it loses nothing.
 *
 * @example
 * ```ts
 * const { password } = await ensurePasswordFile("secrets/control_password");
 * await ensureHashFile("secrets/control_password.bcrypt", password, { cost: 10 });
 * ```
 */
export async function ensureHashFile(file: string, password: string, options: EnsureHashOptions = {}): Promise<EnsuredHash> {
  const { cost = 10, reuse = true } = options;
  requireCost(cost);
  let existing: string | null = null;
  try {
    existing = (await readFile(file, "utf8")).trim();
  } catch (error) {
    // An unreadable hash is as good as a wrong one: it is replaced, not fatal.
    if (!isMissing(error)) existing = "";
  }
  if (existing !== null && reuse && (await hashMatches(password, existing))) {
    await chmod(file, SECRET_FILE_MODE);
    return { hash: existing, status: "kept" };
  }
  const hash = await bcryptHash(password, cost);
  await writeSecretFile(file, hash);
  return { hash, status: existing === null ? "created" : "regenerated" };
}

function requireCost(cost: number): void {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) {
    throw new RangeError(`cost must be an integer from 4 to 31, got ${cost}`);
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
  const { user = "metrics", name = "metrics", cost = 10, rotate = false } = options;
  if (user.length === 0 || user.includes(":")) {
    throw new Error('user must be a non-empty string without ":" (basic auth cannot send one)');
  }
  requireCost(cost);
  // Checked before the folder is made, like the other options.
  const { passwordFile, hashFile } = devCredentialFiles(dir, name);

  await ensureSecretsDir(dir);
  const { password, status } = await ensurePasswordFile(passwordFile, { rotate, invalidates: [hashFile] });
  const created = status !== "kept";
  await ensureHashFile(hashFile, password, { cost, reuse: !created });
  return { user, passwordFile, hashFile, created };
}
