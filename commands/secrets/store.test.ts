import { spawnSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import bcrypt from "bcryptjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureDevCredentials } from "../../workers/secret_files.ts";
import {
  CREDENTIALS_REFERENCE_FILE,
  parsePrometheusWebConfigUsers,
  PROMETHEUS_WEB_CONFIG_FILE,
  STACK_CREDENTIALS,
} from "../../lib/secrets/secrets_layout.ts";
import { ensureStackSecrets, referencePath } from "./store.ts";
import { INGEST_TOKEN_FILE, INGEST_TOKEN_HASH_FILE } from "../../workers/ingest_token.ts";

// Cost 4 keeps the suite fast; one test checks the default cost of 10.
const FAST = { cost: 4 } as const;

let root = "";
let dir = "";

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "stack-secrets-"));
  dir = join(root, "secrets");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

const EXPECTED_FILES = [
  ...STACK_CREDENTIALS.flatMap((c) => [c.passwordFile, ...(c.hash.kind === "file" ? [c.hash.file] : [])]),
  PROMETHEUS_WEB_CONFIG_FILE,
  CREDENTIALS_REFERENCE_FILE,
  INGEST_TOKEN_FILE,
  INGEST_TOKEN_HASH_FILE,
].sort();

async function passwords(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of STACK_CREDENTIALS) out[c.name] = await readFile(join(dir, c.passwordFile), "utf8");
  return out;
}

/** Every hash the servers check, by credential name. */
async function hashes(): Promise<Record<string, string>> {
  const web = parsePrometheusWebConfigUsers(await readFile(join(dir, PROMETHEUS_WEB_CONFIG_FILE), "utf8"));
  const out: Record<string, string> = {};
  for (const c of STACK_CREDENTIALS) {
    if (c.hash.kind === "file") out[c.name] = (await readFile(join(dir, c.hash.file), "utf8")).trim();
    if (c.hash.kind === "prometheus-web-config") out[c.name] = web.get(c.user)!;
  }
  return out;
}

async function expectEveryHashVerifies() {
  const plain = await passwords();
  const hashed = await hashes();
  expect(Object.keys(hashed).sort()).toEqual(["control", "metrics", "prometheus_admin", "prometheus_readonly", "receiver"]);
  for (const [name, hash] of Object.entries(hashed)) {
    expect(await bcrypt.compare(plain[name]!, hash), name).toBe(true);
  }
}

async function expectSecureLayout() {
  expect(await modeOf(dir)).toBe(0o700);
  // Exactly the layout: no temporary file left behind.
  expect((await readdir(dir)).sort()).toEqual(EXPECTED_FILES);
  for (const file of EXPECTED_FILES) expect(await modeOf(join(dir, file)), file).toBe(0o600);
}

describe("ensureStackSecrets", () => {
  it("creates every credential: random base64url passwords, matching cost-10 hashes, exact modes", async () => {
    const summary = await ensureStackSecrets(dir);
    await expectSecureLayout();
    expect(summary.credentials.map((c) => [c.name, c.password, c.hash])).toEqual([
      ["metrics", "created", "created"],
      ["control", "created", "created"],
      ["receiver", "created", "created"],
      ["prometheus_admin", "created", "created"],
      ["prometheus_readonly", "created", "created"],
      ["grafana_admin", "created", "none"],
    ]);
    expect(summary.webConfig).toBe("created");
    expect(summary.reference).toBe("created");
    expect(summary.referenceFile).toBe(join(dir, CREDENTIALS_REFERENCE_FILE));

    const plain = Object.values(await passwords());
    for (const p of plain) {
      expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(p, "base64url").length).toBeGreaterThanOrEqual(24);
    }
    expect(new Set(plain).size).toBe(plain.length);
    for (const hash of Object.values(await hashes())) expect(bcrypt.getRounds(hash)).toBe(10);
    await expectEveryHashVerifies();
    expect(summary.credentials.some((c) => c.weak)).toBe(false);
  });

  it("keeps every password byte for byte, and every other file too, on a re-run", async () => {
    await ensureStackSecrets(dir, FAST);
    const snapshot = async () =>
      Object.fromEntries(await Promise.all(EXPECTED_FILES.map(async (f) => [f, await readFile(join(dir, f))] as const)));
    const before = await snapshot();

    const again = await ensureStackSecrets(dir, FAST);
    expect(again.credentials.every((c) => c.password === "kept")).toBe(true);
    expect(again.credentials.every((c) => c.hash === "kept" || c.hash === "none")).toBe(true);
    expect([again.webConfig, again.reference]).toEqual(["unchanged", "unchanged"]);
    expect(await snapshot()).toEqual(before);
    await expectSecureLayout();
  });

  it("replaces every password with --rotate, and only the named ones with a list", async () => {
    await ensureStackSecrets(dir, FAST);
    const first = await passwords();

    const all = await ensureStackSecrets(dir, { ...FAST, rotate: true });
    expect(all.credentials.every((c) => c.password === "rotated")).toBe(true);
    expect(all.credentials.map((c) => c.hash)).toEqual(["regenerated", "regenerated", "regenerated", "regenerated", "regenerated", "none"]);
    const second = await passwords();
    for (const name of Object.keys(first)) expect(second[name], name).not.toBe(first[name]);
    await expectEveryHashVerifies();
    // The old passwords no longer open anything.
    const hashed = await hashes();
    for (const [name, hash] of Object.entries(hashed)) expect(await bcrypt.compare(first[name]!, hash)).toBe(false);

    const one = await ensureStackSecrets(dir, { ...FAST, rotate: ["prometheus_readonly", "control"] });
    expect(one.credentials.filter((c) => c.password === "rotated").map((c) => c.name)).toEqual([
      "control",
      "prometheus_readonly",
    ]);
    const third = await passwords();
    for (const name of Object.keys(second)) {
      if (name === "prometheus_readonly" || name === "control") expect(third[name]).not.toBe(second[name]);
      else expect(third[name]).toBe(second[name]);
    }
    expect(one.webConfig).toBe("updated");
    // The admin hash was still good, so it is kept as it was.
    expect((await hashes()).prometheus_admin).toBe(hashed.prometheus_admin);
    await expectEveryHashVerifies();
    await expectSecureLayout();
  });

  it("repairs derived files that are missing, stale or edited, keeping the passwords", async () => {
    await ensureStackSecrets(dir, FAST);
    const before = await passwords();
    await unlink(join(dir, "control_password.bcrypt"));
    await writeFile(join(dir, "receiver_password.bcrypt"), await bcrypt.hash("another password", 4));
    await writeFile(join(dir, PROMETHEUS_WEB_CONFIG_FILE), "basic_auth_users:\n  admin: 'garbage'\n");
    await unlink(join(dir, CREDENTIALS_REFERENCE_FILE));

    const summary = await ensureStackSecrets(dir, FAST);
    const status = Object.fromEntries(summary.credentials.map((c) => [c.name, c.hash]));
    expect(status).toEqual({
      metrics: "kept",
      control: "created",
      receiver: "regenerated",
      prometheus_admin: "created",
      prometheus_readonly: "created",
      grafana_admin: "none",
    });
    expect([summary.webConfig, summary.reference]).toEqual(["updated", "created"]);
    expect(await passwords()).toEqual(before);
    await expectEveryHashVerifies();
    await expectSecureLayout();
  });

  it("keeps a password set by hand, hashes it, and flags it as weak", async () => {
    await ensureStackSecrets(dir, FAST);
    await writeFile(join(dir, "prometheus_admin_password"), "chosen by hand\n");
    const summary = await ensureStackSecrets(dir, FAST);
    const admin = summary.credentials.find((c) => c.name === "prometheus_admin")!;
    expect([admin.password, admin.hash, admin.weak]).toEqual(["kept", "regenerated", true]);
    const web = parsePrometheusWebConfigUsers(await readFile(join(dir, PROMETHEUS_WEB_CONFIG_FILE), "utf8"));
    expect(await bcrypt.compare("chosen by hand", web.get("admin")!)).toBe(true);
  });

  it("adopts the dev command's metrics credential, and leaves it usable by the dev command", async () => {
    const dev = await ensureDevCredentials(dir, FAST);
    const password = await readFile(dev.passwordFile, "utf8");
    const hash = await readFile(dev.hashFile, "utf8");
    const summary = await ensureStackSecrets(dir, FAST);
    expect(summary.credentials[0]).toMatchObject({ name: "metrics", password: "kept", hash: "kept" });
    expect(await readFile(dev.passwordFile, "utf8")).toBe(password);
    expect(await readFile(dev.hashFile, "utf8")).toBe(hash);
    expect((await ensureDevCredentials(dir, FAST)).created).toBe(false);
  });

  it("tightens loose modes on an existing folder and files", async () => {
    await ensureStackSecrets(dir, FAST);
    await chmod(dir, 0o755);
    for (const file of EXPECTED_FILES) await chmod(join(dir, file), 0o644);
    await ensureStackSecrets(dir, FAST);
    await expectSecureLayout();
  });

  it("writes a reference that names every file and holds no password or hash", async () => {
    await ensureStackSecrets(dir, { ...FAST, referenceDir: "secrets" });
    const reference = await readFile(join(dir, CREDENTIALS_REFERENCE_FILE), "utf8");
    for (const c of STACK_CREDENTIALS) expect(reference).toContain(`secrets/${c.passwordFile}`);
    expect(reference).toContain(`curl -u "readonly:$(cat secrets/prometheus_readonly_password)" 'http://127.0.0.1:9090/api/v1/query?query=up'`);
    for (const p of Object.values(await passwords())) expect(reference).not.toContain(p);
    for (const h of Object.values(await hashes())) expect(reference).not.toContain(h.slice(7));
    expect(reference).not.toMatch(/\$2[aby]\$/);
  });

  it("names the folder as typed from the working directory by default", () => {
    expect(referencePath("/repo/secrets", "/repo")).toBe("secrets");
    expect(referencePath("secrets", "/repo")).toBe("secrets");
    expect(referencePath("/repo", "/repo")).toBe(".");
    expect(referencePath("/elsewhere/s", "/repo")).toBe("/elsewhere/s");
    expect(referencePath("../s", "/repo")).toBe("/s");
  });

  it("fails with a message naming the file it cannot read, before replacing anything", async () => {
    await ensureStackSecrets(dir, FAST);
    const before = await passwords();
    // A folder where a password should be: unreadable as a file, for root too.
    await unlink(join(dir, "control_password"));
    await mkdir(join(dir, "control_password"));
    await expect(ensureStackSecrets(dir, FAST)).rejects.toThrow(`cannot read the password file ${join(dir, "control_password")}`);
    expect(await readFile(join(dir, "metrics_password"), "utf8")).toBe(before.metrics);
    expect(await readFile(join(dir, "grafana_admin_password"), "utf8")).toBe(before.grafana_admin);
  });

  it("rejects a cost bcrypt does not accept before touching the disk", async () => {
    await expect(ensureStackSecrets(dir, { cost: 3 })).rejects.toThrow(RangeError);
    await expect(stat(dir)).rejects.toThrow();
  });
});

describe("promtool", () => {
  const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  const missing = promtool.error !== undefined || promtool.status !== 0;
  const mustRun = process.env.CI === "true";

  it.skipIf(missing && !mustRun)("accepts the generated web config (promtool check web-config)", async () => {
    if (missing) throw new Error("promtool is required in CI: apt-get install prometheus (it ships promtool)");
    await ensureStackSecrets(dir);
    const check = spawnSync("promtool", ["check", "web-config", join(dir, PROMETHEUS_WEB_CONFIG_FILE)], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toContain("SUCCESS");
    expect(check.status).toBe(0);
  });

  it.skipIf(!missing)("is missing: install it with `apt-get install prometheus` to run the web config check", () => {});
});
