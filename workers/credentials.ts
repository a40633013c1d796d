/**
 * Finds the credential a worker checks basic auth against: from a file named
 * by a setting (a bcrypt hash, or a password that is hashed in memory at
 * start-up), or, when that is unset, from `./secrets/`, made with random
 * values on first run. One credential per purpose, so each can be handed to
 * just the client that needs it: `metrics` (the simulator's `/metrics`),
 * `control` (its scenario switch), `receiver` (the webhook receiver).
 *
 * @module
 */
import process from "node:process";
import { getLogger } from "@logtape/logtape";
import type { MiddlewareHandler } from "hono";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { hash as bcryptHash } from "bcryptjs";
import { basicAuth } from "../handlers/basic_auth.ts";
import { createCredentialVerifier, isBcryptHash, type PasswordCompare } from "../lib/auth/credential_verifier.ts";
import { startBcryptThread } from "./bcrypt_compare.ts";
import { ensureDevCredentials, passwordHashOf, passwordOf, readPasswordHash, readSecretFile } from "./secret_files.ts";

/** Where dev credentials go when no password file is configured (git-ignored). */
export const DEV_SECRETS_DIR = "./secrets";

/** A user and the bcrypt hash its password must match. */
export interface Credential {
  user: string;
  passwordHash: string;
  /** The file a client reads the password from, when known (not for a hash file). */
  passwordFile?: string;
}

/** Options of {@linkcode resolveCredential}. */
export interface CredentialOptions {
  user: string;
  /** The configured file (a bcrypt hash or a password); undefined means the dev credential. */
  passwordFile?: string;
  /** Name of the dev credential: `<DEV_SECRETS_DIR>/<devName>_password` (+ `.bcrypt`). */
  devName: string;
  /** The setting that names the file, which starts its errors. */
  setting: string;
  /** What the credential guards, for the log line about a new password. */
  purpose: string;
  /** How to use a newly made password file, logged once when it is made (a curl line, say). */
  hint: (passwordFile: string) => string;
}

/**
 * Resolves a credential; throws an Error naming the setting when the
 * configured file is missing or bad. A new dev password is announced once,
 * at warning level, with its file and `hint`.
 */
export async function resolveCredential(options: CredentialOptions): Promise<Credential> {
  const { user, passwordFile, devName, setting, purpose } = options;
  if (passwordFile === undefined) {
    const made = await ensureDevCredentials(DEV_SECRETS_DIR, { user, name: devName });
    if (made.created) {
      getLogger(["etl", "credentials"]).warn("Made a random password for {purpose} in {file} (mode 0600). Try: {hint}", {
        purpose,
        file: made.passwordFile,
        hint: options.hint(made.passwordFile),
      });
    }
    return { user, passwordHash: await readPasswordHash(made.hashFile), passwordFile: made.passwordFile };
  }
  const label = { setting };
  const content = await readSecretFile(passwordFile, label);
  // A hash file cannot be given to a client, so no passwordFile is reported for it.
  if (isBcryptHash(content.trim())) return { user, passwordHash: passwordHashOf(content, passwordFile, label) };
  return { user, passwordHash: await bcryptHash(passwordOf(content, passwordFile, label), 10), passwordFile };
}

/** The credential of the simulator's `/metrics` (setting `ETL_METRICS_PASSWORD_FILE`, dev credential `secrets/metrics_password`). */
export function metricsCredentialOptions(user: string, passwordFile: string | undefined, metricsUrl: string): CredentialOptions {
  return {
    user,
    passwordFile,
    devName: "metrics",
    setting: "ETL_METRICS_PASSWORD_FILE",
    purpose: "the simulator's /metrics",
    hint: (file) => `curl -u "${user}:$(cat ${file})" ${metricsUrl}`,
  };
}

/**
 * A worker's basic auth for one credential: resolved at start-up, or a
 * message `<worker>: <why>` and exit 2, since a bad password file is a
 * setting to fix, not a stack trace. `realm` names the login prompt.
 */
export async function credentialAuthOrExit(
  worker: string,
  options: CredentialOptions,
  realm: string,
  compare?: PasswordCompare,
): Promise<{ credential: Credential; auth: MiddlewareHandler }> {
  let credential: Credential;
  try {
    credential = await resolveCredential(options);
  } catch (error) {
    process.stderr.write(`${worker}: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const verifier = createCredentialVerifier({ user: credential.user, passwordHash: credential.passwordHash, ...(compare ? { compare } : {}) });
  return { credential, auth: basicAuth(verifier, { realm }) };
}

/**
 * Starts the bcrypt thread the server's compares run in, off the event loop
 * that answers its requests; exits 1 saying why when it cannot start.
 */
export async function bcryptCompareOrExit(worker: string): Promise<PasswordCompare> {
  try {
    return (await startBcryptThread()).compare;
  } catch (error) {
    process.stderr.write(`${worker}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
