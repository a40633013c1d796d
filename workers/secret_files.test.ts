import { Buffer } from "node:buffer";
import { chmod, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HASH_FILE_NAME, PASSWORD_FILE_NAME } from "../lib/secrets/dev_credentials.ts";
import { ensureDevCredentials, readPassword, readPasswordHash, readSecretFile } from "./secret_files.ts";

let root = "";
let dir = "";

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "dev-credentials-"));
  dir = join(root, "secrets", "nested");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

async function expectSecureLayout() {
  expect(await modeOf(dir)).toBe(0o700);
  expect(await modeOf(join(dir, PASSWORD_FILE_NAME))).toBe(0o600);
  expect(await modeOf(join(dir, HASH_FILE_NAME))).toBe(0o600);
  // No temporary files are left behind.
  expect((await readdir(dir)).sort()).toEqual([PASSWORD_FILE_NAME, HASH_FILE_NAME].sort());
}

async function expectHashMatches(password: string) {
  const hash = await readPasswordHash(join(dir, HASH_FILE_NAME));
  expect(await bcrypt.compare(password, hash)).toBe(true);
  return hash;
}

describe("ensureDevCredentials", () => {
  it("creates a random password and its cost-10 hash, 0600 files in a 0700 folder", async () => {
    const creds = await ensureDevCredentials(dir);
    expect(creds).toEqual({
      user: "metrics",
      passwordFile: join(dir, PASSWORD_FILE_NAME),
      hashFile: join(dir, HASH_FILE_NAME),
      created: true,
    });
    await expectSecureLayout();
    const raw = await readFile(creds.passwordFile, "utf8");
    // 32 random bytes in base64url, no newline.
    expect(raw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(raw, "base64url").length).toBe(32);
    const hash = await expectHashMatches(raw);
    expect(bcrypt.getRounds(hash)).toBe(10);
  });

  it("keeps the same password and hash on the next run", async () => {
    await ensureDevCredentials(dir, { cost: 4 });
    const password = await readPassword(join(dir, PASSWORD_FILE_NAME));
    const hash = await readPasswordHash(join(dir, HASH_FILE_NAME));

    const again = await ensureDevCredentials(dir, { cost: 4 });
    expect(again.created).toBe(false);
    expect(await readPassword(again.passwordFile)).toBe(password);
    expect(await readPasswordHash(again.hashFile)).toBe(hash);
    await expectSecureLayout();
  });

  it("makes a new password and hash when rotating", async () => {
    await ensureDevCredentials(dir, { cost: 4 });
    const before = await readPassword(join(dir, PASSWORD_FILE_NAME));

    const rotated = await ensureDevCredentials(dir, { cost: 4, rotate: true });
    expect(rotated.created).toBe(true);
    const after = await readPassword(rotated.passwordFile);
    expect(after).not.toBe(before);
    const hash = await expectHashMatches(after);
    expect(await bcrypt.compare(before, hash)).toBe(false);
    await expectSecureLayout();
  });

  it("makes the hash again from the existing password when the hash is missing", async () => {
    await ensureDevCredentials(dir, { cost: 4 });
    const password = await readPassword(join(dir, PASSWORD_FILE_NAME));
    await unlink(join(dir, HASH_FILE_NAME));

    const creds = await ensureDevCredentials(dir, { cost: 4 });
    expect(creds.created).toBe(false);
    expect(await readPassword(creds.passwordFile)).toBe(password);
    await expectHashMatches(password);
    await expectSecureLayout();
  });

  it("makes the hash again when the hash is garbage or belongs to another password", async () => {
    await ensureDevCredentials(dir, { cost: 4 });
    // A password set by hand, with the newline an editor adds.
    await writeFile(join(dir, PASSWORD_FILE_NAME), "chosen by hand\n");
    let creds = await ensureDevCredentials(dir, { cost: 4 });
    expect(creds.created).toBe(false);
    expect(await readPassword(creds.passwordFile)).toBe("chosen by hand");
    await expectHashMatches("chosen by hand");

    await writeFile(join(dir, HASH_FILE_NAME), "not a hash\n");
    creds = await ensureDevCredentials(dir, { cost: 4 });
    expect(creds.created).toBe(false);
    await expectHashMatches("chosen by hand");
    await expectSecureLayout();
  });

  it("replaces an empty password file", async () => {
    await ensureDevCredentials(dir, { cost: 4 });
    await writeFile(join(dir, PASSWORD_FILE_NAME), "");
    const creds = await ensureDevCredentials(dir, { cost: 4 });
    expect(creds.created).toBe(true);
    await expectHashMatches(await readPassword(creds.passwordFile));
  });

  it("tightens loose modes on an existing folder and files", async () => {
    await ensureDevCredentials(dir, { cost: 4 });
    await chmod(dir, 0o755);
    await chmod(join(dir, PASSWORD_FILE_NAME), 0o644);
    await chmod(join(dir, HASH_FILE_NAME), 0o666);
    await ensureDevCredentials(dir, { cost: 4 });
    await expectSecureLayout();
  });

  it("reports the user it was given", async () => {
    expect((await ensureDevCredentials(dir, { user: "prometheus", cost: 4 })).user).toBe("prometheus");
  });

  it("rejects a user basic auth cannot send and a cost bcrypt does not accept", async () => {
    await expect(ensureDevCredentials(dir, { user: "a:b" })).rejects.toThrow(/user must be/);
    await expect(ensureDevCredentials(dir, { user: "" })).rejects.toThrow(/user must be/);
    await expect(ensureDevCredentials(dir, { cost: 3 })).rejects.toThrow(RangeError);
    await expect(ensureDevCredentials(dir, { cost: 32 })).rejects.toThrow(RangeError);
    await expect(stat(dir)).rejects.toThrow();
  });
});

describe("readPassword and readPasswordHash", () => {
  it("explain a missing file", async () => {
    const missing = join(root, "nowhere");
    await expect(readPassword(missing)).rejects.toThrow(`cannot read the password file ${missing}: not found`);
    await expect(readPasswordHash(missing)).rejects.toThrow(`cannot read the password hash file ${missing}: not found`);
  });

  it("explain an empty file", async () => {
    const empty = join(root, "empty");
    await writeFile(empty, "\n");
    await expect(readPassword(empty)).rejects.toThrow(`the password file ${empty} is empty`);
    await expect(readPasswordHash(empty)).rejects.toThrow(`the password hash file ${empty} is empty`);
  });

  it("refuse a hash file holding something else, without quoting it", async () => {
    const file = join(root, "wrong.bcrypt");
    await writeFile(file, "hunter2-plaintext\n");
    const error = await readPasswordHash(file).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("does not hold a bcrypt hash");
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("drop one final newline from a password and keep everything else", async () => {
    const file = join(root, "password");
    await writeFile(file, " spaced \r\n");
    expect(await readPassword(file)).toBe(" spaced ");
    await writeFile(file, "two\n\n");
    expect(await readPassword(file)).toBe("two\n");
  });

  it("accept a hash with surrounding whitespace", async () => {
    const file = join(root, "hash");
    const hash = await bcrypt.hash("x", 4);
    await writeFile(file, `${hash}\n`);
    expect(await readPasswordHash(file)).toBe(hash);
  });
});

describe("readSecretFile", () => {
  it("says how a missing file is made, and names the setting that named a file", async () => {
    const missing = join(root, "nowhere");
    await expect(readSecretFile(missing, { what: "control password", whenMissing: "npm run dev makes it" }))
      .rejects.toThrow(`cannot read the control password file ${missing}: not found (npm run dev makes it)`);
    await expect(readSecretFile(missing, { setting: "ETL_RECEIVER_PASSWORD_FILE" }))
      .rejects.toThrow(`ETL_RECEIVER_PASSWORD_FILE ${missing}: ENOENT`);
    const empty = join(root, "empty");
    await writeFile(empty, "");
    await expect(readPassword(empty, { setting: "ETL_X_FILE" })).rejects.toThrow(`ETL_X_FILE ${empty}: the file is empty`);
  });
});
