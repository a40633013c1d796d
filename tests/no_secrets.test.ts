// "No password, hash or token is committed anywhere in the repo": every file
// git tracks is scanned, and so that the scan is known to work at all, it is
// first pointed at a throwaway repository with secrets planted in it.
import { execFileSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readKnownSecrets, scanTrackedFiles, type SecretFinding } from "../commands/secrets/scan.ts";
import { ROOT } from "./harness.ts";

const report = (findings: SecretFinding[]) => findings.map((f) => `${f.file}:${f.line} ${f.kind}: ${f.detail}`);

describe("the scan itself, on a throwaway repository", () => {
  let repo = "";
  let secrets = "";
  // Assembled at run time so that this file holds none of them literally.
  const password = "pL4nted".repeat(6) + "Q";
  const planted = {
    "prometheus/web.yml": `basic_auth_users:\n  admin: '${["$2b", "10", "N".repeat(53)].join("$")}'\n`,
    "deploy/key.pem": `${["-----BEGIN", "RSA", "PRIVATE", "KEY-----"].join(" ")}\nMIIE\n`,
    "docs/howto.md": `curl -H '${["Authorization:", "Basic", Buffer.from("metrics:x").toString("base64")].join(" ")}' http://127.0.0.1:8000/\n`,
    "compose.yml": "services:\n  grafana:\n    environment:\n      - GF_SECURITY_ADMIN_PASSWORD=admin\n",
    "notes/pasted.txt": `the readonly password is ${password}\n`,
    "clean/prometheus.yml": "basic_auth:\n  username: metrics\n  password_file: secrets/metrics_password\n",
    "untracked.yml": "password: not-scanned-because-untracked\n",
    "deleted.yml": "password: tracked-but-gone\n",
  };

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), "no-secrets-"));
    secrets = join(repo, "secrets");
    for (const [file, text] of Object.entries(planted)) {
      await mkdir(join(repo, file, ".."), { recursive: true });
      await writeFile(join(repo, file), text);
    }
    await mkdir(secrets);
    await writeFile(join(secrets, "prometheus_readonly_password"), password);
    await writeFile(join(secrets, "grafana_admin_password"), "short\n");
    const git = (...args: string[]) => execFileSync("git", ["-c", "init.defaultBranch=main", ...args], { cwd: repo, stdio: "pipe" });
    git("init", "-q");
    git("add", ...Object.keys(planted).filter((f) => f !== "untracked.yml"));
    await rm(join(repo, "deleted.yml"));
  });

  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it("catches every planted secret, and nothing in the clean file", async () => {
    const known = await readKnownSecrets([secrets, join(repo, "no-such-folder")]);
    expect(known.secrets.map((s) => s.label)).toEqual([join(secrets, "prometheus_readonly_password")]);
    expect(known.tooShort).toEqual([join(secrets, "grafana_admin_password")]);

    const { scanned, skipped, findings } = await scanTrackedFiles(repo, known.secrets);
    expect(skipped).toEqual(["deleted.yml"]);
    expect(scanned).toBe(6);
    expect(report(findings).sort()).toEqual([
      "compose.yml:4 password-literal: GF_SECURITY_ADMIN_PASSWORD has a literal value",
      "deploy/key.pem:1 private-key: BEGIN RSA PRIVATE KEY block",
      "docs/howto.md:1 basic-auth-header: Authorization: Basic <base64 credentials>",
      `notes/pasted.txt:1 local-secret: the content of ${join(secrets, "prometheus_readonly_password")}`,
      "prometheus/web.yml:2 bcrypt-hash: $2b$10$NNN…",
    ]);
    // The report names secrets without repeating them.
    expect(report(findings).join("\n")).not.toContain(password);
    expect(report(findings).join("\n")).not.toContain("N".repeat(20));
  });
});

describe("this repository's tracked files", () => {
  it("hold no password, hash, key or token, nor the content of a local secrets/*_password", async () => {
    const dirs = [join(ROOT, "secrets"), process.env.ETL_SECRETS_DIR ?? ""];
    const known = await readKnownSecrets(dirs);
    if (known.tooShort.length > 0) {
      console.warn(`not looked for (too short to tell from ordinary words): ${known.tooShort.join(", ")}`);
    }
    const { scanned, findings } = await scanTrackedFiles(ROOT, known.secrets);
    expect(scanned).toBeGreaterThan(0);
    expect(report(findings), "secrets in tracked files: remove them (and rotate any real one)").toEqual([]);
  });
});
