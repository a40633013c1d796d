/**
 * `npm run stack -- backup` and `restore`: the data volumes of Prometheus,
 * Grafana and Alertmanager archived with `tar` in a one-off container, a
 * manifest with sizes and SHA-256, and the services stopped around the copy
 * and started again (`lib/stack/backup_plan.ts` has the plan).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  type ArchiveEntry,
  archiveName,
  archiveProblems,
  BACKUP_VOLUMES,
  backupArgv,
  DATA_SERVICES,
  defaultBackupDir,
  emptyVolumeArgv,
  type FoundArchive,
  formatBytes,
  MANIFEST_FILE,
  parseManifest,
  renderManifest,
  restoreArgv,
  volumeNames,
} from "../../lib/stack/backup_plan.ts";
import { serviceArgs } from "../../lib/stack/compose_command.ts";
import type { ComposeStack } from "./compose.ts";
import { openStack, shown, type StackContext, waitReady } from "./context.ts";
import { capture, captureToFile, feedFromFile, fileDigest, lastLines, StackError } from "./run_command.ts";

/** Checks the image the one-off tar containers run. */
async function checkImage(stack: ComposeStack, image: string): Promise<void> {
  const found = await capture(["docker", "image", "inspect", "--format", "{{.Id}}", image], stack.env);
  if (found.code !== 0) {
    throw new StackError(`the image ${image} is not here (it is built by npm run stack -- up; or give --image / ETL_BACKUP_IMAGE with tar in it)`);
  }
}

/** Stops those of `services` that run; returns them, to start again. */
async function stopRunning(ctx: StackContext, stack: ComposeStack, services: readonly string[], why: string): Promise<string[]> {
  const containers = await stack.containers();
  const running = services.filter((s) => containers.get(s)?.status === "running");
  if (running.length > 0) {
    ctx.io.out(`Stopping ${running.join(", ")} ${why}…\n`);
    await stack.run(serviceArgs("stop", running));
  } else {
    ctx.io.out(`${services.join(", ")} not running: nothing to stop.\n`);
  }
  return running;
}

async function startAgain(ctx: StackContext, stack: ComposeStack, services: readonly string[]): Promise<void> {
  if (services.length === 0) return;
  ctx.io.out(`Starting ${services.join(", ")} again…\n`);
  await stack.run(serviceArgs("start", services));
  await waitReady(ctx, stack, services, ctx.settings.timeout);
}

export async function backup(ctx: StackContext): Promise<number> {
  const now = (ctx.place.now ?? (() => new Date()))();
  const dir = ctx.args[0] === undefined ? join(ctx.place.root, defaultBackupDir(now)) : resolve(ctx.place.cwd, ctx.args[0]);
  if (existsSync(join(dir, MANIFEST_FILE))) throw new StackError(`${shown(ctx, dir)} already holds a backup (${MANIFEST_FILE}): name another folder`);
  const stack = await openStack(ctx);
  await checkImage(stack, ctx.settings.image);
  const names = volumeNames((await stack.config()), ctx.settings.project);
  const present: ArchiveEntry["key"][] = [];
  for (const { key } of BACKUP_VOLUMES) {
    const found = await capture(["docker", "volume", "inspect", "--format", "{{.Name}}", names[key]], stack.env);
    if (found.code === 0) present.push(key);
    else ctx.io.out(`${names[key]}: no such volume, skipped\n`);
  }
  if (present.length === 0) throw new StackError("nothing to back up: none of the data volumes exists (has the stack run yet?)");

  const createdDir = !existsSync(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stopped = await stopRunning(ctx, stack, DATA_SERVICES, "for a consistent copy");
  const entries: ArchiveEntry[] = [];
  let failure: unknown;
  try {
    for (const key of present) {
      const name = names[key];
      const file = join(dir, archiveName(name));
      const { bytes, sha256 } = await captureToFile(["docker", ...backupArgv(ctx.settings.image, name)], stack.env, file);
      entries.push({ key, name, bytes, sha256 });
      ctx.io.out(`  ${name} -> ${shown(ctx, file)} (${formatBytes(bytes)})\n`);
    }
    // Written before the restart: the archives are complete whatever happens next.
    await writeFile(join(dir, MANIFEST_FILE), renderManifest(now, entries), { mode: 0o600 });
  } catch (error) {
    failure = error;
  }
  try {
    await startAgain(ctx, stack, stopped);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) {
    if (createdDir && (await readdir(dir)).length === 0) await rmdir(dir);
    if (existsSync(join(dir, MANIFEST_FILE))) ctx.io.err(`The backup itself is complete in ${shown(ctx, dir)}.\n`);
    throw failure;
  }
  ctx.io.out(`Backup in ${shown(ctx, dir)} (${MANIFEST_FILE} lists it). Restore with: npm run stack -- restore ${shown(ctx, dir)}\n`);
  return 0;
}

export async function restore(ctx: StackContext): Promise<number> {
  const dir = resolve(ctx.place.cwd, ctx.args[0]!);
  const manifestFile = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestFile, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new StackError(code === "ENOENT" ? `no backup in ${shown(ctx, dir)}: ${MANIFEST_FILE} not found` : `cannot read ${manifestFile}: ${(error as Error).message}`);
  }
  const parsed = parseManifest(text, shown(ctx, manifestFile));
  if (!parsed.ok) throw new StackError(parsed.message);
  const { manifest } = parsed;
  const found = new Map<string, FoundArchive>();
  for (const entry of manifest.volumes) found.set(entry.archive, await fileDigest(join(dir, entry.archive)));
  const problems = archiveProblems(manifest, found, shown(ctx, dir));
  if (problems.length > 0) throw new StackError(`${problems.join("; ")}: nothing was changed`);

  const stack = await openStack(ctx);
  await checkImage(stack, ctx.settings.image);
  const names = volumeNames((await stack.config()), ctx.settings.project);
  const services = BACKUP_VOLUMES.filter((v) => manifest.volumes.some((e) => e.key === v.key)).map((v) => v.service);
  ctx.io.out(`Restoring the backup of ${manifest.created} from ${shown(ctx, dir)}\n`);
  const stopped = await stopRunning(ctx, stack, services, "to replace their data");
  let failure: unknown;
  try {
    for (const entry of manifest.volumes) {
      const name = names[entry.key];
      await checked(capture(["docker", ...emptyVolumeArgv(ctx.settings.image, name)], stack.env), `emptying ${name}`);
      await feedFromFile(["docker", ...restoreArgv(ctx.settings.image, name)], stack.env, join(dir, entry.archive));
      ctx.io.out(`  ${entry.archive} -> ${name} (${formatBytes(entry.bytes)})\n`);
    }
  } catch (error) {
    failure = new StackError(`${(error as Error).message} (the volumes restored so far keep the backup's data)`);
  }
  try {
    await startAgain(ctx, stack, stopped);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  ctx.io.out(`Restored ${manifest.volumes.length} volume${manifest.volumes.length === 1 ? "" : "s"}.\n`);
  return 0;
}

async function checked(result: ReturnType<typeof capture>, what: string): Promise<void> {
  const r = await result;
  if (r.code !== 0) throw new StackError(`${what} failed: ${r.spawnError ?? lastLines(r.stderr, 5)}`);
}
