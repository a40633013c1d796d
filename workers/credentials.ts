/**
 * Finds the credential a worker checks basic auth against: from a file named
 * by a setting (a bcrypt hash, or a password that is hashed in memory at
 * start-up), or, when that is unset, from `./secrets/`, made with random
 * values on first run. One credential per purpose, so each can be handed to
 * just the client that needs it: `metrics` (the simulator's `/metrics`),
 * `control` (its scenario switch), `receiver` (the webhook receiver).
 *
 * @example
 * ```ts
 * import { resolveCredential, resolveMetricsCredential } from "./credentials.ts";
 * const metrics = await resolveMetricsCredential("metrics", undefined, "http://127.0.0.1:8000/metrics");
 * const control = await resolveCredential({ user: "control", devName: "control", setting: "ETL_CONTROL_PASSWORD_FILE" });
 * ```
 * @module
 */
import { readFile } from "node:fs/promises";
import { getLogger } from "@logtape/logtape";
// Named, not the default export: that one object holds all of bcryptjs, so none of it could be left out.
import { hash as bcryptHash } from "bcryptjs";
import { isBcryptHash } from "../lib/auth/credential_verifier.ts";
import { ensureDevCredentials, readPassword, readPasswordHash } from "../lib/secrets/dev_credentials.ts";

/**
 * Where dev credentials go when no password file is configured (git-ignored).
 *
 * @example
 * ```ts
 * import { devCredentialFiles } from "../lib/secrets/dev_credentials.ts";
 * devCredentialFiles(DEV_SECRETS_DIR, "control").passwordFile; // "secrets/control_password"
 * ```
 */
export const DEV_SECRETS_DIR = "./secrets";

/**
 * A user and the bcrypt hash its password must match.
 *
 * @example
 * ```ts
 * const credential: MetricsCredential = { user: "metrics", passwordHash: "$2b$10$...", passwordFile: "secrets/metrics_password" };
 * ```
 */
export interface MetricsCredential {
  user: string;
  passwordHash: string;
  /** The file a client reads the password from, when known. */
  passwordFile?: string;
}

/**
 * Any worker's credential; the same shape as {@linkcode MetricsCredential}.
 *
 * @example
 * ```ts
 * const { user, passwordHash }: Credential = await resolveCredential({ user: "control", devName: "control" });
 * ```
 */
export type Credential = MetricsCredential;

/**
 * Options of {@linkcode resolveCredential}.
 *
 * @example
 * ```ts
 * const options: CredentialOptions = {
 *   user: "alertmanager",
 *   passwordFile: process.env.ETL_RECEIVER_PASSWORD_FILE,
 *   devName: "receiver",
 *   setting: "ETL_RECEIVER_PASSWORD_FILE",
 *   purpose: "the webhook receiver",
 *   hint: (file) => `password_file: ${file}`,
 * };
 * ```
 */
export interface CredentialOptions {
  user: string;
  /** The configured file (a bcrypt hash or a password); undefined means the dev credential. */
  passwordFile?: string;
  /** Name of the dev credential: `<DEV_SECRETS_DIR>/<devName>_password` (+ `.bcrypt`). */
  devName: string;
  /** The setting that names the file, quoted in errors. Default `"password file"`. */
  setting?: string;
  /** What the credential guards, for the log line about a new password. Default `"basic auth"`. */
  purpose?: string;
  /** How to use a newly made password file, logged once when it is made (a curl line, say). */
  hint?: (passwordFile: string) => string;
}

/**
 * Resolves a credential; throws an Error with a clear message when the
 * configured file is missing or bad. A new dev password is announced once,
 * at warning level, with its file and `hint`.
 *
 * @example
 * ```ts
 * const credential = await resolveCredential({
 *   user: "control",
 *   passwordFile: undefined,
 *   devName: "control",
 *   setting: "ETL_CONTROL_PASSWORD_FILE",
 *   purpose: "the simulator's /control/scenario",
 *   hint: (file) => `npm run scenario -- --password-file ${file} --status`,
 * });
 * credential.passwordFile; // "secrets/control_password"
 * ```
 */
export async function resolveCredential(options: CredentialOptions): Promise<Credential> {
  const { user, passwordFile, devName, setting = "password file", purpose = "basic auth" } = options;
  const log = getLogger(["etl", "credentials"]);
  if (passwordFile === undefined) {
    const made = await ensureDevCredentials(DEV_SECRETS_DIR, { user, name: devName });
    if (made.created) {
      log.warn("Made a random password for {purpose} in {file} (mode 0600). Try: {hint}", {
        purpose,
        file: made.passwordFile,
        hint: options.hint?.(made.passwordFile) ?? `cat ${made.passwordFile}`,
      });
    }
    return { user, passwordHash: await readPasswordHash(made.hashFile), passwordFile: made.passwordFile };
  }
  const content = (await readFile(passwordFile, "utf8").catch((error: Error) => {
    throw new Error(`${setting} ${passwordFile}: ${error.message}`);
  })).trim();
  // A hash file cannot be given to a client, so no passwordFile is reported for it.
  if (isBcryptHash(content)) return { user, passwordHash: await readPasswordHash(passwordFile) };
  const password = await readPassword(passwordFile);
  return { user, passwordHash: await bcryptHash(password, 10), passwordFile };
}

/**
 * Resolves the credential of the simulator's `/metrics` (setting
 * `ETL_METRICS_PASSWORD_FILE`, dev credential `secrets/metrics_password`);
 * throws an Error with a clear message when a file is missing or bad.
 *
 * @example
 * ```ts
 * const { user, passwordHash, passwordFile } = await resolveMetricsCredential("metrics", undefined);
 * ```
 */
export function resolveMetricsCredential(
  user: string,
  passwordFile: string | undefined,
  metricsUrl = "http://127.0.0.1:8000/metrics",
): Promise<MetricsCredential> {
  return resolveCredential({
    user,
    passwordFile,
    devName: "metrics",
    setting: "ETL_METRICS_PASSWORD_FILE",
    purpose: "the simulator's /metrics",
    hint: (file) => `curl -u "${user}:$(cat ${file})" ${metricsUrl}`,
  });
}
