/**
 * Finds the credential of the simulator's `/metrics`: from the file named by
 * `ETL_METRICS_PASSWORD_FILE` (a bcrypt hash, or a password that is hashed
 * in memory at start-up), or, when that is unset, from `./secrets/`, made
 * with random values on first run.
 *
 * @example
 * ```ts
 * import { resolveMetricsCredential } from "./credentials.ts";
 * const { user, passwordHash } = await resolveMetricsCredential("metrics", undefined, "http://127.0.0.1:8000/metrics");
 * ```
 * @module
 */
import { readFile } from "node:fs/promises";
import { getLogger } from "@logtape/logtape";
import bcrypt from "bcryptjs";
import { isBcryptHash } from "../lib/credential_verifier.ts";
import { ensureDevCredentials, readPassword, readPasswordHash } from "../lib/dev_credentials.ts";

/** Where dev credentials go when no password file is configured (git-ignored). */
export const DEV_SECRETS_DIR = "./secrets";

/** A user and the bcrypt hash its password must match. */
export interface MetricsCredential {
  user: string;
  passwordHash: string;
  /** The file a client reads the password from, when known. */
  passwordFile?: string;
}

/** Resolves the credential; throws an Error with a clear message when a file is missing or bad. */
export async function resolveMetricsCredential(
  user: string,
  passwordFile: string | undefined,
  metricsUrl = "http://127.0.0.1:8000/metrics",
): Promise<MetricsCredential> {
  const log = getLogger(["etl", "credentials"]);
  if (passwordFile === undefined) {
    const made = await ensureDevCredentials(DEV_SECRETS_DIR, { user });
    if (made.created) {
      log.warn("Made a random password for the simulator's /metrics in {file} (mode 0600). Try: {curl}", {
        file: made.passwordFile,
        curl: `curl -u "${user}:$(cat ${made.passwordFile})" ${metricsUrl}`,
      });
    }
    return { user, passwordHash: await readPasswordHash(made.hashFile), passwordFile: made.passwordFile };
  }
  const content = (await readFile(passwordFile, "utf8").catch((error: Error) => {
    throw new Error(`ETL_METRICS_PASSWORD_FILE ${passwordFile}: ${error.message}`);
  })).trim();
  if (isBcryptHash(content)) return { user, passwordHash: await readPasswordHash(passwordFile) };
  const password = await readPassword(passwordFile);
  return { user, passwordHash: await bcrypt.hash(password, 10), passwordFile };
}
