/**
 * The job of the Compose stack's `etl-secrets-init` service: copies each
 * service's secrets from the Compose secrets folder (`/run/secrets`, bind
 * mounts that keep the host's owner and 0600) into that service's volume,
 * owned by the service's user, mode 0400, in a folder only that user can
 * open (0500). Files that are no longer part of a share are removed, so a
 * volume never keeps a credential its service should not see.
 *
 * Every source file is checked before anything is written: a missing one
 * stops the run with the list of what is missing, and the volumes keep
 * their previous content. Each copy goes to a temporary file renamed into
 * place, so a service never reads half a password.
 *
 * @example
 * ```ts
 * import { CONTAINER_SECRETS } from "../../lib/secrets/container_secrets.ts";
 * import { fanOutSecrets } from "./fan_out.ts";
 * const result = await fanOutSecrets({ from: "/run/secrets", to: "/secrets-out", shares: CONTAINER_SECRETS });
 * if (!result.ok) console.error(result.message);
 * ```
 * @module
 */
import { access, chmod, chown, copyFile, mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { planSecretCopies, type SecretShare } from "../../lib/secrets/container_secrets.ts";

/**
 * Where to copy from and to, and whose files go where.
 *
 * @example
 * ```ts
 * const options: FanOutOptions = { from: "/run/secrets", to: "/secrets-out", shares: CONTAINER_SECRETS };
 * ```
 */
export interface FanOutOptions {
  from: string;
  to: string;
  shares: Readonly<Record<string, SecretShare>>;
  /** Give the files to each service's user. Default true; only root may, so tests as another user turn it off. */
  setOwners?: boolean;
}

/**
 * What a run did: the files copied, or why nothing was.
 *
 * @example
 * ```ts
 * const result: FanOutResult = { ok: true, copied: 8, removed: ["etl/old_password"] };
 * ```
 */
export type FanOutResult =
  | { ok: true; copied: number; removed: string[] }
  | { ok: false; message: string };

const FILE_MODE = 0o400;
const FOLDER_MODE = 0o500;

/** Copies every share into its folder under `to`; see the module notes. */
export async function fanOutSecrets(options: FanOutOptions): Promise<FanOutResult> {
  const setOwners = options.setOwners ?? true;
  const copies = planSecretCopies(options.shares, options.from, options.to);
  const missing: string[] = [];
  for (const copy of copies) {
    try {
      await access(copy.from);
    } catch {
      missing.push(copy.from);
    }
  }
  if (missing.length > 0) {
    const unique = [...new Set(missing)];
    return {
      ok: false,
      message: `Missing secret files: ${unique.join(", ")}. ` +
        "Run `npm run secrets` (or `npm run stack -- up`, which runs it) and start again.",
    };
  }

  const removed: string[] = [];
  try {
    for (const [name, share] of Object.entries(options.shares)) {
      const folder = join(options.to, name);
      await mkdir(folder, { recursive: true });
      // Open while writing (root ignores modes anyway), closed to all but the owner afterwards.
      for (const entry of await readdir(folder)) {
        if (!share.files.includes(entry)) {
          await rm(join(folder, entry), { recursive: true, force: true });
          removed.push(`${name}/${entry}`);
        }
      }
      for (const file of share.files) {
        const target = join(folder, file);
        const temporary = `${target}.tmp-${process.pid}`;
        await copyFile(join(options.from, file), temporary);
        await chmod(temporary, FILE_MODE);
        if (setOwners) await chown(temporary, share.uid, share.gid);
        await rename(temporary, target);
      }
      await chmod(folder, FOLDER_MODE);
      if (setOwners) await chown(folder, share.uid, share.gid);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    const hint = code === "EPERM" ? " (setting owners needs root: the service runs with user 0)" : "";
    return { ok: false, message: `Could not copy the secrets: ${(error as Error).message}${hint}` };
  }
  return { ok: true, copied: copies.length, removed };
}
