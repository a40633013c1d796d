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
 * place, so a service never reads half a password. A share with a
 * `webConfig` (TLS mode) also gets that web config written, with
 * `tls_server_config` naming the certificate beside it.
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
import { access, chmod, chown, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { planSecretCopies, type TlsSecretShare } from "../../lib/secrets/container_secrets.ts";
import { httpsWebConfigText } from "../../lib/stack/tls_mode.ts";

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
  shares: Readonly<Record<string, TlsSecretShare>>;
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
      const written = share.webConfig ? [...share.files, share.webConfig.file] : share.files;
      for (const entry of await readdir(folder)) {
        if (!written.includes(entry)) {
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
      if (share.webConfig) {
        const web = share.webConfig;
        const base = web.base === undefined ? undefined : await readFile(join(options.from, web.base), "utf8");
        const target = join(folder, web.file);
        const temporary = `${target}.tmp-${process.pid}`;
        // Holds the users' bcrypt hashes when based on prometheus-web.yml: the mode of the copies.
        await writeFile(temporary, httpsWebConfigText(base, { certFile: web.cert, keyFile: web.key }), { mode: FILE_MODE });
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
