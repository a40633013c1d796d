import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONTAINER_SECRETS, type SecretShare, secretFilesNeeded, TLS_CONTAINER_SECRETS } from "../../lib/secrets/container_secrets.ts";
import { fanOutSecrets } from "./fan_out.ts";

const isRoot = process.getuid?.() === 0;
let dir: string;
let from: string;
let to: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fan-out-"));
  from = join(dir, "run-secrets");
  to = join(dir, "out");
  await mkdir(from, { mode: 0o700 });
  await mkdir(to);
  for (const file of secretFilesNeeded(CONTAINER_SECRETS)) {
    await writeFile(join(from, file), `content of ${file}\n`, { mode: 0o600 });
  }
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("fanOutSecrets", () => {
  it("gives each service exactly its files, owned by its user, mode 0400, in a 0500 folder", async () => {
    const result = await fanOutSecrets({ from, to, shares: CONTAINER_SECRETS, setOwners: isRoot });
    expect(result).toEqual({ ok: true, copied: 10, removed: [] });
    for (const [name, share] of Object.entries(CONTAINER_SECRETS)) {
      const folder = join(to, name);
      expect((await readdir(folder)).sort()).toEqual([...share.files].sort());
      const folderStat = await stat(folder);
      expect(folderStat.mode & 0o777).toBe(0o500);
      for (const file of share.files) {
        const fileStat = await stat(join(folder, file));
        expect(fileStat.mode & 0o777).toBe(0o400);
        expect(await readFile(join(folder, file), "utf8")).toBe(`content of ${file}\n`);
        if (isRoot) {
          expect([fileStat.uid, fileStat.gid]).toEqual([share.uid, share.gid]);
          expect([folderStat.uid, folderStat.gid]).toEqual([share.uid, share.gid]);
        }
      }
    }
  });

  it("replaces a rotated password and removes files that are no longer shared", async () => {
    const shares: Record<string, SecretShare> = { alertmanager: { uid: 65534, gid: 65534, files: ["receiver_password"] } };
    await mkdir(join(to, "alertmanager"));
    await writeFile(join(to, "alertmanager", "receiver_password"), "old\n");
    await writeFile(join(to, "alertmanager", "metrics_password"), "should not be here\n");
    const result = await fanOutSecrets({ from, to, shares, setOwners: isRoot });
    expect(result).toEqual({ ok: true, copied: 1, removed: ["alertmanager/metrics_password"] });
    expect(await readdir(join(to, "alertmanager"))).toEqual(["receiver_password"]);
    expect(await readFile(join(to, "alertmanager", "receiver_password"), "utf8")).toBe("content of receiver_password\n");
  });

  it("writes nothing and lists every missing file when the secrets are incomplete", async () => {
    await rm(join(from, "receiver_password"));
    await rm(join(from, "grafana_admin_password"));
    const result = await fanOutSecrets({ from, to, shares: CONTAINER_SECRETS, setOwners: isRoot });
    expect(result).toEqual({
      ok: false,
      message: `Missing secret files: ${join(from, "receiver_password")}, ${join(from, "grafana_admin_password")}. ` +
        "Run `npm run secrets` (or `npm run stack -- up`, which runs it) and start again.",
    });
    expect(await readdir(to)).toEqual([]);
  });

  it("in TLS mode also hands out the certificates and writes the web configs with tls_server_config beside them", async () => {
    for (const file of secretFilesNeeded(TLS_CONTAINER_SECRETS)) {
      if (file !== "prometheus-web.yml") await writeFile(join(from, file), `content of ${file}\n`, { mode: 0o600 });
    }
    await writeFile(join(from, "prometheus-web.yml"), "basic_auth_users:\n  readonly: $2b$04$hash\n", { mode: 0o600 });
    // A web config left by an earlier run is rewritten, not removed as a stranger.
    await mkdir(join(to, "alertmanager"));
    await writeFile(join(to, "alertmanager", "alertmanager-web.yml"), "old\n");
    const result = await fanOutSecrets({ from, to, shares: TLS_CONTAINER_SECRETS, setOwners: isRoot });
    // 10 plain copies, and the CA and certificates: 7 for etl, 3 each for the others.
    expect(result).toEqual({ ok: true, copied: 26, removed: [] });
    expect((await readdir(join(to, "alertmanager"))).sort()).toEqual(["alertmanager-web.yml", "alertmanager.crt", "alertmanager.key", "ca.crt", "receiver_password"]);
    expect(parse(await readFile(join(to, "alertmanager", "alertmanager-web.yml"), "utf8"))).toEqual({
      tls_server_config: { cert_file: "alertmanager.crt", key_file: "alertmanager.key", min_version: "TLS12" },
    });
    expect(parse(await readFile(join(to, "prometheus", "prometheus-web.yml"), "utf8"))).toEqual({
      basic_auth_users: { readonly: "$2b$04$hash" },
      tls_server_config: { cert_file: "prometheus.crt", key_file: "prometheus.key", min_version: "TLS12" },
    });
    const web = await stat(join(to, "prometheus", "prometheus-web.yml"));
    expect(web.mode & 0o777).toBe(0o400);
    if (isRoot) expect([web.uid, web.gid]).toEqual([65534, 65534]);
    expect((await readdir(join(to, "etl"))).sort()).toEqual([...TLS_CONTAINER_SECRETS.etl.files].sort());
    expect(await readdir(join(to, "etl"))).not.toContain("ca.key");
  });
});
