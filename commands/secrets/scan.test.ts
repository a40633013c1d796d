import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { findSecretsInText, isConfigFile, isPasswordReference, type SecretFinding } from "./scan.ts";

// Every planted secret is assembled at run time: written out literally, it
// would make tests/no_secrets.test.ts fail on this very file.
const HASH = ["$2b", "10", "x".repeat(53)].join("$");
const BCRYPT = `$2y$12$${"Ab./".repeat(13)}C`;
const KEY_HEADER = ["-----BEGIN", "OPENSSH", "PRIVATE", "KEY-----"].join(" ");
const BASIC = ["Authorization:", "Basic", Buffer.from("metrics:hunter2").toString("base64")].join(" ");

const kinds = (findings: SecretFinding[]) => findings.map((f) => `${f.line}:${f.kind}`);

describe("findSecretsInText", () => {
  it("finds bcrypt hashes anywhere, and shows only their start", () => {
    expect(BCRYPT).toHaveLength(60);
    const found = findSecretsInText("lib/x.ts", `const a = 1;\n// ${HASH}\nconst b = "${BCRYPT}";\n`);
    expect(kinds(found)).toEqual(["2:bcrypt-hash", "3:bcrypt-hash"]);
    expect(found[0]!.detail).toBe("$2b$10$xxx…");
    for (const f of found) expect(f.detail.length).toBeLessThan(15);
  });

  it("finds private key blocks and Authorization: Basic literals", () => {
    expect(kinds(findSecretsInText("k.pem", `${KEY_HEADER}\nabc\n`))).toEqual(["1:private-key"]);
    expect(kinds(findSecretsInText("README.md", `curl -H '${BASIC}' http://x`))).toEqual(["1:basic-auth-header"]);
    expect(kinds(findSecretsInText("a.ts", `headers: { Authorization: "Basic ${Buffer.from("a:b").toString("base64")}" }`))).toEqual([
      "1:basic-auth-header",
    ]);
    const detail = findSecretsInText("README.md", BASIC)[0]!.detail;
    expect(detail).not.toContain(Buffer.from("metrics:hunter2").toString("base64"));
  });

  it("leaves header templates and placeholders alone", () => {
    for (const text of [
      "headers: { Authorization: basic(USER, PASSWORD) }",
      "Authorization: `Basic ${b64(user)}`",
      "-H 'Authorization: Basic <base64 of user:password>'",
      'parseBasicAuthorization("Basic YTpi")',
    ]) {
      expect(findSecretsInText("a.ts", text), text).toEqual([]);
    }
  });

  it("finds credentials in URLs and well-known tokens", () => {
    const url = ["http://admin", "admin@127.0.0.1:3000/api"].join(":");
    const found = findSecretsInText("docs.md", `${url}\n${"ghp_"}${"a1".repeat(18)}\n`);
    expect(kinds(found)).toEqual(["1:url-credentials", "2:token"]);
    expect(found[0]!.detail).toBe("http://admin:***@127.0.0.1:3000");
    expect(findSecretsInText("a.md", "git clone https://github.com/x/y and http://127.0.0.1:9090/")).toEqual([]);
  });

  it("finds passwords written as literals in YAML, JSON and env files", () => {
    const yaml = [
      "basic_auth:",
      "  username: metrics",
      "  password: hunter2",
      "environment:",
      "  - GF_SECURITY_ADMIN_PASSWORD=admin",
      "  GF_SECURITY_ADMIN_PASSWORD: 'admin'",
      "smtp_auth_password: ${SMTP_PASSWORD:-changeme}",
    ].join("\n");
    expect(kinds(findSecretsInText("compose.yml", yaml))).toEqual([
      "3:password-literal",
      "5:password-literal",
      "6:password-literal",
      "7:password-literal",
    ]);
    expect(kinds(findSecretsInText("x.json", '{\n  "basicAuthPassword": "s3cret",\n  "user": "a"\n}'))).toEqual([
      "2:password-literal",
    ]);
    expect(kinds(findSecretsInText(".env", "export DB_PASSWORD=s3cret\n"))).toEqual(["1:password-literal"]);
    expect(findSecretsInText("compose.yml", "  password: hunter2")[0]!.detail).toBe("password has a literal value");
  });

  it("allows password files, __FILE variables, $__file{}, variables and empty values", () => {
    const yaml = [
      "  password_file: secrets/metrics_password",
      "  - GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password",
      "  basicAuthPassword: $__file{/run/secrets/prometheus_readonly_password}",
      "  password: ${PROMETHEUS_PASSWORD}",
      "  password: $PASSWORD",
      "  password:",
      '  password: ""',
      "  password: null # set at deploy time",
      "  password_required: true",
    ].join("\n");
    expect(findSecretsInText("grafana.yml", yaml)).toEqual([]);
  });

  it("checks password keys only in configuration files", () => {
    expect(findSecretsInText("handlers/x.ts", 'const c = { password: "s3cret" };')).toEqual([]);
    expect(findSecretsInText("README.md", "password: hunter2")).toEqual([]);
  });

  it("finds the exact content of a known secret, naming the file it came from", () => {
    const password = "Zx9".repeat(14) + "q";
    const found = findSecretsInText("notes.txt", `a\nb ${password} c\n${password}\n`, [
      { label: "secrets/metrics_password", value: password },
      { label: "secrets/short_password", value: "admin" },
    ]);
    expect(found).toEqual([
      { file: "notes.txt", line: 2, kind: "local-secret", detail: "the content of secrets/metrics_password" },
      { file: "notes.txt", line: 3, kind: "local-secret", detail: "the content of secrets/metrics_password" },
    ]);
  });
});

describe("isConfigFile and isPasswordReference", () => {
  it("recognize configuration files", () => {
    for (const f of ["a.yml", "b/c.YAML", "d.json", ".env", ".env.local", "prod.env"]) expect(isConfigFile(f), f).toBe(true);
    for (const f of ["a.ts", "README.md", "env", "yml"]) expect(isConfigFile(f), f).toBe(false);
  });

  it("tell references from literals", () => {
    expect(isPasswordReference(" '${A_B}' ")).toBe(true);
    expect(isPasswordReference('"$__file{/x}",')).toBe(true);
    expect(isPasswordReference("~")).toBe(true);
    expect(isPasswordReference("${A:-x}")).toBe(false);
    expect(isPasswordReference("pre${A}")).toBe(false);
    expect(isPasswordReference("'admin' # default")).toBe(false);
  });
});
