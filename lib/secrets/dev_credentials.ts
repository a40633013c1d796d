/**
 * The rules of a development credential, without the files: where its two
 * files are, what a password is, and whether a hash matches it. The files
 * themselves are read and written by `workers/secret_files.ts`.
 *
 * Layout of a secrets folder, for the credential named `<name>`:
 * - `<name>_password`: the password, no trailing newline, for
 *   `curl -u "metrics:$(cat <dir>/metrics_password)"` and Prometheus'
 *   `password_file`;
 * - `<name>_password.bcrypt`: its bcrypt hash, all the server needs.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { compare as bcryptCompare } from "bcryptjs";
import { isBcryptHash } from "../auth/credential_verifier.ts";

/** File name of the `metrics` password inside the credentials folder. */
export const PASSWORD_FILE_NAME = "metrics_password";
/** File name of the `metrics` password's bcrypt hash inside the credentials folder. */
export const HASH_FILE_NAME = "metrics_password.bcrypt";

// A name becomes part of two file names: keep it to a safe, boring alphabet.
const CREDENTIAL_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * The two files of the dev credential named `name` inside `dir`. Throws on a
 * name that is not lower-case letters, digits, `_` and `-` (it must not
 * reach outside `dir`).
 *
 * @example
 * ```ts
 * devCredentialFiles("secrets", "control");
 * // { passwordFile: "secrets/control_password", hashFile: "secrets/control_password.bcrypt" }
 * ```
 */
export function devCredentialFiles(dir: string, name = "metrics"): { passwordFile: string; hashFile: string } {
  if (!CREDENTIAL_NAME.test(name)) {
    throw new Error(`credential name must be lower-case letters, digits, "_" or "-", got ${JSON.stringify(name)}`);
  }
  const passwordFile = join(dir, `${name}_password`);
  return { passwordFile, hashFile: `${passwordFile}.bcrypt` };
}

/**
 * A password file's text as the password: editors add a newline at the end
 * of a file, and `$(cat file)` drops it too.
 *
 * @example
 * ```ts
 * withoutFinalNewline("s3cret\r\n"); // "s3cret"
 * ```
 */
export function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

// 32 random bytes are 256 bits and 43 base64url characters: well inside
// bcrypt's 72-byte limit and safe in a shell, a URL and a YAML file.
const PASSWORD_BYTES = 32;

/** A new random password: 32 bytes from the operating system's CSPRNG, as 43 base64url characters. */
export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString("base64url");
}

/** Whether `hash` is a bcrypt hash of `password`; false, not an error, for anything that is not a bcrypt hash. */
export async function hashMatches(password: string, hash: string): Promise<boolean> {
  if (!isBcryptHash(hash)) return false;
  try {
    return await bcryptCompare(password, hash);
  } catch {
    return false;
  }
}

/** Throws a RangeError unless `cost` is a bcrypt cost (an integer from 4 to 31). */
export function requireBcryptCost(cost: number): void {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) {
    throw new RangeError(`cost must be an integer from 4 to 31, got ${cost}`);
  }
}

/** Throws unless `user` can be sent in a basic-auth header (non-empty, no `:`). */
export function requireBasicAuthUser(user: string): void {
  if (user.length === 0 || user.includes(":")) {
    throw new Error('user must be a non-empty string without ":" (basic auth cannot send one)');
  }
}
