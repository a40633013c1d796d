/**
 * Replacing a file whole, for the secrets and the exporter's checkpoint: a
 * reader sees the old content or the new, never a part, and a crash loses
 * neither the file nor the rename.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { chmod, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `content` to `file` so that a reader sees the old content or the
 * new, never a part, and a crash leaves neither half a file nor a lost
 * rename: a temporary file in the same folder (so the rename stays on one
 * filesystem), fsync, rename, fsync of the folder. `mode`, when given, is
 * set exactly (the umask may have cleared bits of it).
 */
export async function writeFileAtomic(file: string, content: string, options: { mode?: number } = {}): Promise<void> {
  const dir = dirname(file);
  const temporary = join(dir, `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // "wx" refuses to follow or reuse anything already at the temporary name.
    const handle = await open(temporary, "wx", options.mode ?? 0o666);
    try {
      await handle.writeFile(content, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.mode !== undefined) await chmod(temporary, options.mode);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename durable; some platforms refuse to fsync a folder, which is fine there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL") throw error;
  } finally {
    await handle?.close();
  }
}
