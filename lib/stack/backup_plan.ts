/**
 * Backups of the stack's data, without I/O: which volumes, the archive
 * and manifest names, the manifest's schema, and the `docker run` command
 * lines that copy a volume to and from a gzip tar stream (tar runs in a
 * one-off container as root, keeping numeric owners, since Prometheus and
 * Grafana own their files as users the host does not know).
 *
 * The archives pass through the CLI's standard input and output rather
 * than a bind mount, so they belong to the user who runs the CLI, and a
 * remote `DOCKER_HOST` works too.
 *
 * @example
 * ```ts
 * import { BACKUP_VOLUMES, backupArgv, renderManifest } from "./backup_plan.ts";
 * backupArgv("etl-monitoring/etl-metrics:0.1.0", BACKUP_VOLUMES[0].name);
 * // ["run", "--rm", "--network", "none", "--user", "0", "-v", "etl-monitoring-prometheus-data:/volume:ro", ...]
 * ```
 * @module
 */
import * as z from "zod";

/**
 * The volumes backed up, by their key in the Compose file, with the
 * service that writes each one and the name the Compose file gives it
 * (the CLI reads the names from `compose config`; these are the fallback).
 *
 * @example
 * ```ts
 * BACKUP_VOLUMES.map((v) => v.name);
 * // ["etl-monitoring-prometheus-data", "etl-monitoring-grafana-data", "etl-monitoring-alertmanager-data"]
 * ```
 */
export const BACKUP_VOLUMES = [
  { key: "prometheus-data", name: "etl-monitoring-prometheus-data", service: "prometheus" },
  { key: "grafana-data", name: "etl-monitoring-grafana-data", service: "grafana" },
  { key: "alertmanager-data", name: "etl-monitoring-alertmanager-data", service: "alertmanager" },
] as const;

/**
 * The key of a backed-up volume in the Compose file.
 *
 * @example
 * ```ts
 * const key: BackupKey = "grafana-data";
 * ```
 */
export type BackupKey = (typeof BACKUP_VOLUMES)[number]["key"];

/**
 * The services stopped during a backup or a restore: those writing the volumes.
 *
 * @example
 * ```ts
 * DATA_SERVICES; // ["prometheus", "grafana", "alertmanager"]
 * ```
 */
export const DATA_SERVICES: readonly string[] = BACKUP_VOLUMES.map((v) => v.service);

/**
 * The Docker name of each backed-up volume, from the `volumes:` of a
 * `compose config` output: its `name:`, else Compose's default
 * `<project>_<key>`; a key the file lacks keeps {@linkcode BACKUP_VOLUMES}' name.
 *
 * @example
 * ```ts
 * volumeNames("volumes:\n  grafana-data:\n    name: g\n  prometheus-data: {}\n", "p");
 * // { "prometheus-data": "p_prometheus-data", "grafana-data": "g", "alertmanager-data": "etl-monitoring-alertmanager-data" }
 * ```
 */
export function volumeNames(config: { volumes?: Record<string, { name?: unknown } | null> } | null, project: string): Record<BackupKey, string> {
  const declared = config?.volumes ?? {};
  const names = {} as Record<BackupKey, string>;
  for (const v of BACKUP_VOLUMES) {
    const entry = Object.hasOwn(declared, v.key) ? declared[v.key] : undefined;
    names[v.key] = Object.hasOwn(declared, v.key)
      ? typeof entry?.name === "string" && entry.name !== "" ? entry.name : `${project}_${v.key}`
      : v.name;
  }
  return names;
}

/**
 * The manifest's file name in a backup folder.
 *
 * @example
 * ```ts
 * join(dir, MANIFEST_FILE); // "backups/20261124T011000Z/manifest.json"
 * ```
 */
export const MANIFEST_FILE = "manifest.json";

/**
 * The archive of a volume in a backup folder.
 *
 * @example
 * ```ts
 * archiveName("etl-monitoring-grafana-data"); // "etl-monitoring-grafana-data.tar.gz"
 * ```
 */
export function archiveName(volume: string): string {
  return `${volume}.tar.gz`;
}

/**
 * The default backup folder, relative to the repository: `backups/` and the UTC time.
 *
 * @example
 * ```ts
 * defaultBackupDir(new Date("2026-11-24T01:10:00.123Z")); // "backups/20261124T011000Z"
 * ```
 */
export function defaultBackupDir(now: Date): string {
  return `backups/${now.toISOString().replace(/\.\d+Z$/, "Z").replaceAll("-", "").replaceAll(":", "")}`;
}

const keys = BACKUP_VOLUMES.map((v) => v.key) as [BackupKey, ...BackupKey[]];

const ManifestEntry = z.object({
  key: z.enum(keys),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a Docker volume name"),
  archive: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
}).refine((e) => e.archive === archiveName(e.name), { message: "archive must be <name>.tar.gz" });

/**
 * The schema of `manifest.json`.
 *
 * @example
 * ```ts
 * BackupManifestSchema.parse(JSON.parse(text)).volumes.length; // 3
 * ```
 */
export const BackupManifestSchema = z.object({
  kind: z.literal("etl-monitoring-backup"),
  version: z.literal(1),
  created: z.iso.datetime(),
  volumes: z.array(ManifestEntry).min(1),
});

/**
 * A backup's manifest: when, and each archive with its size and SHA-256.
 *
 * @example
 * ```ts
 * const manifest: BackupManifest = {
 *   kind: "etl-monitoring-backup", version: 1, created: "2026-11-24T01:10:00.000Z",
 *   volumes: [{ key: "grafana-data", name: "etl-monitoring-grafana-data", archive: "etl-monitoring-grafana-data.tar.gz", bytes: 20480, sha256: "ab…" }],
 * };
 * ```
 */
export type BackupManifest = z.infer<typeof BackupManifestSchema>;

/**
 * One archive written, for {@linkcode renderManifest}.
 *
 * @example
 * ```ts
 * const entry: ArchiveEntry = { key: "grafana-data", name: "etl-monitoring-grafana-data", bytes: 20480, sha256: "ab…" };
 * ```
 */
export interface ArchiveEntry {
  key: BackupKey;
  /** The Docker volume's name. */
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * The text of `manifest.json` (two-space JSON, one newline at the end).
 *
 * @example
 * ```ts
 * renderManifest(new Date("2026-11-24T01:10:00Z"), [{ key: "grafana-data", name: "etl-monitoring-grafana-data", bytes: 3, sha256: "0".repeat(64) }]);
 * // '{\n  "kind": "etl-monitoring-backup",\n  "version": 1,\n  "created": "2026-11-24T01:10:00.000Z",\n  "volumes": [ … ]\n}\n'
 * ```
 */
export function renderManifest(created: Date, entries: readonly ArchiveEntry[]): string {
  const manifest: BackupManifest = {
    kind: "etl-monitoring-backup",
    version: 1,
    created: created.toISOString(),
    volumes: entries.map((e) => ({ key: e.key, name: e.name, archive: archiveName(e.name), bytes: e.bytes, sha256: e.sha256 })),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Reads `manifest.json`'s text: the manifest, or a message saying what is wrong.
 *
 * @example
 * ```ts
 * parseManifest("{}", "backups/x/manifest.json").ok; // false
 * ```
 */
export function parseManifest(text: string, file: string): { ok: true; manifest: BackupManifest } | { ok: false; message: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, message: `${file} is not JSON` };
  }
  const parsed = BackupManifestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, message: `${file} is not a backup manifest of this stack: ${issue.path.join(".") || "(top)"}: ${issue.message}` };
  }
  const volumes = parsed.data.volumes.map((v) => v.key);
  const twice = volumes.find((v, i) => volumes.indexOf(v) !== i);
  if (twice !== undefined) return { ok: false, message: `${file} lists ${twice} twice` };
  return { ok: true, manifest: parsed.data };
}

/**
 * What was found of one archive on disk: its size and SHA-256, or nothing.
 *
 * @example
 * ```ts
 * const found: FoundArchive = { bytes: 20480, sha256: "ab…" };
 * ```
 */
export type FoundArchive = { bytes: number; sha256: string } | undefined;

/**
 * Compares the manifest with the archives found: one message per archive
 * missing, of another size, or with another SHA-256.
 *
 * @example
 * ```ts
 * archiveProblems(manifest, new Map(), "backups/x");
 * // ["backups/x/etl-monitoring-grafana-data.tar.gz is missing"]
 * ```
 */
export function archiveProblems(manifest: BackupManifest, found: ReadonlyMap<string, FoundArchive>, dir: string): string[] {
  const problems: string[] = [];
  for (const entry of manifest.volumes) {
    const path = `${dir.replace(/\/+$/, "")}/${entry.archive}`;
    const actual = found.get(entry.archive);
    if (actual === undefined) problems.push(`${path} is missing`);
    else if (actual.bytes !== entry.bytes) problems.push(`${path} has ${actual.bytes} bytes, the manifest says ${entry.bytes}`);
    else if (actual.sha256 !== entry.sha256) problems.push(`${path} does not match the SHA-256 of the manifest`);
  }
  return problems;
}

const oneOff = (image: string, volume: string, mode: "ro" | "rw", entrypoint: string) => [
  "run",
  "--rm",
  "--network",
  "none",
  "--user",
  "0",
  "-v",
  `${volume}:/volume${mode === "ro" ? ":ro" : ""}`,
  "--entrypoint",
  entrypoint,
  image,
];

/**
 * `docker run` arguments that write `volume` as a gzip tar to standard
 * output (read-only mount; numeric owners kept).
 *
 * @example
 * ```ts
 * backupArgv("img:1", "etl-monitoring-grafana-data");
 * // ["run", "--rm", "--network", "none", "--user", "0", "-v", "etl-monitoring-grafana-data:/volume:ro",
 * //  "--entrypoint", "tar", "img:1", "-C", "/volume", "--numeric-owner", "-czf", "-", "."]
 * ```
 */
export function backupArgv(image: string, volume: string): string[] {
  return [...oneOff(image, volume, "ro", "tar"), "-C", "/volume", "--numeric-owner", "-czf", "-", "."];
}

/**
 * `docker run` arguments that empty `volume` (everything inside it, not the volume itself).
 *
 * @example
 * ```ts
 * emptyVolumeArgv("img:1", "etl-monitoring-grafana-data");
 * // ["run", "--rm", "--network", "none", "--user", "0", "-v", "etl-monitoring-grafana-data:/volume",
 * //  "--entrypoint", "find", "img:1", "/volume", "-mindepth", "1", "-delete"]
 * ```
 */
export function emptyVolumeArgv(image: string, volume: string): string[] {
  return [...oneOff(image, volume, "rw", "find"), "/volume", "-mindepth", "1", "-delete"];
}

/**
 * `docker run` arguments that unpack a gzip tar from standard input into
 * `volume`, owners and modes as archived.
 *
 * @example
 * ```ts
 * restoreArgv("img:1", "etl-monitoring-grafana-data");
 * // ["run", "--rm", "-i", "--network", "none", "--user", "0", "-v", "etl-monitoring-grafana-data:/volume",
 * //  "--entrypoint", "tar", "img:1", "-C", "/volume", "--numeric-owner", "-xzpf", "-"]
 * ```
 */
export function restoreArgv(image: string, volume: string): string[] {
  const [run, rm, ...rest] = oneOff(image, volume, "rw", "tar");
  return [run!, rm!, "-i", ...rest, "-C", "/volume", "--numeric-owner", "-xzpf", "-"];
}

/**
 * A byte count in the unit that reads best.
 *
 * @example
 * ```ts
 * formatBytes(512); // "512 B"
 * formatBytes(20_480); // "20.0 KiB"
 * formatBytes(5_347_737); // "5.1 MiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
