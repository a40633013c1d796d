import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDENTIAL_NAMES, STACK_CREDENTIALS } from "../../lib/secrets/secrets_layout.ts";
import { formatSecretsSummary, parseSecretsArgs, runSecretsCli, SECRETS_USAGE, UsageError } from "./cli.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DENO = join(ROOT, "node_modules/.bin/deno");

let root = "";

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "secrets-cli-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("parseSecretsArgs", () => {
  it("defaults to ./secrets, then ETL_SECRETS_DIR, then --dir", () => {
    expect(parseSecretsArgs([], {})).toEqual({ dir: "secrets", rotate: false, rotateCertificates: false, help: false });
    expect(parseSecretsArgs([], { ETL_SECRETS_DIR: "/run/s" }).dir).toBe("/run/s");
    expect(parseSecretsArgs([], { ETL_SECRETS_DIR: "" }).dir).toBe("secrets");
    expect(parseSecretsArgs(["--dir", "x"], { ETL_SECRETS_DIR: "/run/s" }).dir).toBe("x");
    expect(parseSecretsArgs(["--dir=-odd"], {}).dir).toBe("-odd");
  });

  it("rotates all with a bare --rotate, named ones otherwise", () => {
    expect(parseSecretsArgs(["--rotate"], {}).rotate).toBe(true);
    expect(parseSecretsArgs(["--rotate", "--dir", "x"], {})).toEqual({ dir: "x", rotate: true, rotateCertificates: true, help: false });
    expect(parseSecretsArgs(["--rotate-certificates"], {})).toEqual({ dir: "secrets", rotate: false, rotateCertificates: true, help: false });
    expect(parseSecretsArgs(["--rotate", "control", "--rotate=grafana_admin", "--rotate", "control"], {}).rotate).toEqual([
      "control",
      "grafana_admin",
    ]);
    expect(parseSecretsArgs(["--rotate", "metrics", "--rotate"], {}).rotate).toBe(true);
  });

  it("refuses unknown flags, names and arguments", () => {
    for (const argv of [["--nope"], ["extra"], ["--dir"], ["--dir", "--rotate"], ["--dir="], ["--rotate", "root"], ["--rotate=x"]]) {
      expect(() => parseSecretsArgs(argv, {}), argv.join(" ")).toThrow(UsageError);
    }
  });

  it("takes -h and --help", () => {
    expect(parseSecretsArgs(["-h"], {}).help).toBe(true);
    expect(parseSecretsArgs(["--rotate", "--help"], {}).help).toBe(true);
  });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe("runSecretsCli", () => {
  it("creates the secrets, then keeps them, and prints no password", async () => {
    const dir = join(root, "in-process");
    const first = capture();
    expect(await runSecretsCli(["--dir", dir], {}, first.io, { cost: 4 })).toBe(0);
    expect(first.err).toEqual([]);
    const text = first.out.join("");
    expect(text).toContain(`Secrets in ${dir}`);
    expect(text).toContain(`Reference (created): ${join(dir, "CREDENTIALS.md")}`);
    expect(text).toMatch(/metrics\s+metrics\s+password created, hash created\s/);
    for (const c of STACK_CREDENTIALS) expect(text).not.toContain(await readFile(join(dir, c.passwordFile), "utf8"));

    const again = capture();
    expect(await runSecretsCli([], { ETL_SECRETS_DIR: dir }, again.io, { cost: 4 })).toBe(0);
    expect(again.out.join("")).not.toMatch(/created|rotated/);
    expect(again.out.join("")).toContain("Reference (unchanged)");

    const rotated = capture();
    expect(await runSecretsCli(["--dir", dir, "--rotate", "grafana_admin"], {}, rotated.io, { cost: 4 })).toBe(0);
    expect(rotated.out.join("")).toMatch(/grafana_admin\s+admin\s+password rotated\s/);
    expect(rotated.out.join("")).toContain("Rotated grafana_admin");
  });

  it("answers 2 and the usage on bad flags, 0 and the usage on --help", async () => {
    const bad = capture();
    const badName = capture();
    const never = join(root, "never");
    expect(await runSecretsCli(["--dir", never], { ETL_TLS_EXTRA_NAMES: "bad name" }, badName.io)).toBe(2);
    await expect(stat(never)).rejects.toMatchObject({ code: "ENOENT" }); // nothing written
    expect(badName.err.join("")).toBe('secrets: ETL_TLS_EXTRA_NAMES: "bad name" is neither a host name nor an IP address\n');
    expect(await runSecretsCli(["--rotate", "root"], {}, bad.io)).toBe(2);
    expect(bad.err.join("")).toContain('unknown credential "root"');
    expect(bad.err.join("")).toContain(SECRETS_USAGE);
    const help = capture();
    expect(await runSecretsCli(["--help"], {}, help.io)).toBe(0);
    expect(help.out.join("")).toBe(SECRETS_USAGE);
    for (const name of CREDENTIAL_NAMES) expect(SECRETS_USAGE).toContain(name);
  });

  it("answers 1 with a one-line message when the folder cannot be used", async () => {
    const blocker = join(root, "a-file");
    await writeFile(blocker, "");
    const failed = capture();
    expect(await runSecretsCli(["--dir", join(blocker, "secrets")], {}, failed.io, { cost: 4 })).toBe(1);
    const message = failed.err.join("");
    expect(message).toMatch(/^secrets: .*a-file/);
    expect(message.trim().split("\n")).toHaveLength(1);
  });

  it("flags a short hand-set password in the summary", () => {
    const text = formatSecretsSummary({
      dir: "s",
      credentials: [{ name: "control", user: "control", passwordFile: "s/control_password", password: "kept", hash: "kept", weak: true }],
      webConfigFile: "s/prometheus-web.yml",
      webConfig: "unchanged",
      referenceFile: "s/CREDENTIALS.md",
      reference: "unchanged",
    });
    expect(text).toContain("--rotate control replaces it");
  });
});

describe("commands/secrets/main.ts as a process", () => {
  let bundle = "";

  beforeAll(async () => {
    // Bundled the way commands/build/bundle.mjs bundles the workers.
    bundle = join(root, "secrets.mjs");
    await build({
      entryPoints: [join(ROOT, "commands/secrets/main.ts")],
      outfile: bundle,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
      logLevel: "warning",
    });
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [bundle, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });

  it("creates ./secrets relative to where it runs, with exact modes", async () => {
    const result = run([]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Reference (created): secrets/CREDENTIALS.md");
    expect((await stat(join(root, "secrets"))).mode & 0o777).toBe(0o700);
    expect((await readdir(join(root, "secrets"))).length).toBe(16); // 11 credential files, the ingest token and its hash, ca.crt, ca.key, tls/
    expect(result.stdout).toContain("Local CA secrets/ca.crt: created");
    const reference = await readFile(join(root, "secrets/CREDENTIALS.md"), "utf8");
    expect(reference).toContain('curl -u "metrics:$(cat secrets/metrics_password)"');
  });

  it("exits 2 on a bad flag and 1 on an I/O error, without a stack trace", async () => {
    const bad = run(["--bogus"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^secrets: unknown flag --bogus/);

    await mkdir(join(root, "env-dir"));
    await writeFile(join(root, "env-dir/blocker"), "");
    const io = run([], { ETL_SECRETS_DIR: join(root, "env-dir/blocker/secrets") });
    expect(io.status).toBe(1);
    expect(io.stderr).toMatch(/^secrets: .*blocker/);
    expect(io.stderr).not.toMatch(/\n\s+at /);
  });

  it("runs under Deno from source too", async () => {
    const dir = join(root, "deno-secrets");
    const deno = spawnSync(DENO, ["run", "--allow-read", "--allow-write", "--allow-env", join(ROOT, "commands/secrets/main.ts"), "--dir", dir], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(deno.stderr).toBe("");
    expect(deno.status).toBe(0);
    expect((await readdir(dir)).length).toBe(16);
    expect((await readdir(join(dir, "tls"))).length).toBe(12); // the X.509 work runs on Deno's WebCrypto too
  }, 60_000);
});
