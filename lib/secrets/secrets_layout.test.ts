import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { HASH_FILE_NAME, PASSWORD_FILE_NAME } from "./dev_credentials.ts";
import {
  CREDENTIAL_NAMES,
  credentialSpec,
  CREDENTIALS_REFERENCE_FILE,
  curlExample,
  isCredentialName,
  parsePrometheusWebConfigUsers,
  PROMETHEUS_WEB_CONFIG_FILE,
  renderCredentialsReference,
  renderPrometheusWebConfig,
  shellQuote,
  STACK_CREDENTIALS,
} from "./secrets_layout.ts";

// Built at run time: a literal hash in this file would trip tests/no_secrets.test.ts.
const fakeHash = (c: string) => `$2b$10$${c.repeat(53)}`;

describe("the credential table", () => {
  it("has one entry per name, in the order of CREDENTIAL_NAMES", () => {
    expect(STACK_CREDENTIALS.map((c) => c.name)).toEqual([...CREDENTIAL_NAMES]);
    for (const name of CREDENTIAL_NAMES) expect(credentialSpec(name).name).toBe(name);
  });

  it("uses the fixed file names others rely on", () => {
    const files = STACK_CREDENTIALS.flatMap((c) => [c.passwordFile, ...(c.hash.kind === "file" ? [c.hash.file] : [])]);
    expect(files).toEqual([
      "metrics_password",
      "metrics_password.bcrypt",
      "control_password",
      "control_password.bcrypt",
      "receiver_password",
      "receiver_password.bcrypt",
      "prometheus_admin_password",
      "prometheus_readonly_password",
      "grafana_admin_password",
    ]);
    expect(new Set([...files, PROMETHEUS_WEB_CONFIG_FILE, CREDENTIALS_REFERENCE_FILE]).size).toBe(files.length + 2);
    expect(PROMETHEUS_WEB_CONFIG_FILE).toBe("prometheus-web.yml");
    expect(CREDENTIALS_REFERENCE_FILE).toBe("CREDENTIALS.md");
  });

  it("shares the metrics files with the dev command", () => {
    const metrics = credentialSpec("metrics");
    expect(metrics.passwordFile).toBe(PASSWORD_FILE_NAME);
    expect(metrics.hash).toEqual({ kind: "file", file: HASH_FILE_NAME });
  });

  it("names the users of the issue", () => {
    expect(Object.fromEntries(STACK_CREDENTIALS.map((c) => [c.name, c.user]))).toEqual({
      metrics: "metrics",
      control: "control",
      receiver: "alertmanager",
      prometheus_admin: "admin",
      prometheus_readonly: "readonly",
      grafana_admin: "admin",
    });
    const webConfigUsers = STACK_CREDENTIALS.filter((c) => c.hash.kind === "prometheus-web-config").map((c) => c.user);
    expect(webConfigUsers).toEqual(["admin", "readonly"]);
  });

  it("points every URL at 127.0.0.1", () => {
    for (const c of STACK_CREDENTIALS) expect(new URL(c.url).hostname).toBe("127.0.0.1");
  });

  it("tells credential names from other words", () => {
    expect(isCredentialName("grafana_admin")).toBe(true);
    expect(isCredentialName("root")).toBe(false);
    expect(isCredentialName("toString")).toBe(false);
  });
});

describe("renderPrometheusWebConfig", () => {
  it("writes basic_auth_users with one quoted hash per user", () => {
    const text = renderPrometheusWebConfig([
      { user: "admin", hash: fakeHash("a") },
      { user: "readonly", hash: fakeHash("b") },
    ]);
    const body = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    expect(body).toEqual(["basic_auth_users:", `  admin: '${fakeHash("a")}'`, `  readonly: '${fakeHash("b")}'`]);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("is YAML that any reader takes as the same mapping", () => {
    const users = [{ user: "admin", hash: fakeHash("a") }, { user: "read-only.2", hash: `$2a$04$${"./".repeat(26)}z` }];
    expect(parseYaml(renderPrometheusWebConfig(users))).toEqual({
      basic_auth_users: Object.fromEntries(users.map((u) => [u.user, u.hash])),
    });
  });

  it("reads back what it wrote", async () => {
    const hash = await bcrypt.hash("x", 4);
    const text = renderPrometheusWebConfig([{ user: "admin", hash }, { user: "readonly", hash: fakeHash("c") }]);
    expect(parsePrometheusWebConfigUsers(text)).toEqual(new Map([["admin", hash], ["readonly", fakeHash("c")]]));
  });

  it("refuses a value that is not a bcrypt hash, without quoting it", () => {
    const call = () => renderPrometheusWebConfig([{ user: "admin", hash: "hunter2-plaintext" }]);
    expect(call).toThrow(/not a bcrypt hash/);
    expect(call).not.toThrow(/hunter2/);
  });

  it("refuses user names YAML or basic auth could misread, duplicates and no users", () => {
    for (const user of ["", "a:b", "with space", "#x", "- x", "ädmin"]) {
      expect(() => renderPrometheusWebConfig([{ user, hash: fakeHash("a") }])).toThrow(/user name/);
    }
    expect(() =>
      renderPrometheusWebConfig([{ user: "admin", hash: fakeHash("a") }, { user: "admin", hash: fakeHash("b") }])
    ).toThrow(/twice/);
    expect(() => renderPrometheusWebConfig([])).toThrow(/at least one/);
  });
});

describe("parsePrometheusWebConfigUsers", () => {
  it("takes quoted and bare hashes under basic_auth_users only", () => {
    const text = [
      "tls_server_config:",
      `  admin: '${fakeHash("z")}'`,
      "basic_auth_users:",
      `  admin: ${fakeHash("a")}`,
      `  readonly: "${fakeHash("b")}"`,
      "  broken: not-a-hash",
      "",
    ].join("\n");
    expect(parsePrometheusWebConfigUsers(text)).toEqual(new Map([["admin", fakeHash("a")], ["readonly", fakeHash("b")]]));
    expect(parsePrometheusWebConfigUsers("")).toEqual(new Map());
  });
});

describe("shellQuote and curlExample", () => {
  it("leaves plain words and quotes the rest", () => {
    expect(shellQuote("secrets/metrics_password")).toBe("secrets/metrics_password");
    expect(shellQuote("http://127.0.0.1:9090/api/v1/query?query=up")).toBe("'http://127.0.0.1:9090/api/v1/query?query=up'");
    expect(shellQuote("my secrets/x")).toBe("'my secrets/x'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it("reads the password from its file", () => {
    expect(curlExample(credentialSpec("prometheus_readonly"), "secrets")).toBe(
      `curl -u "readonly:$(cat secrets/prometheus_readonly_password)" 'http://127.0.0.1:9090/api/v1/query?query=up'`,
    );
    expect(curlExample(credentialSpec("metrics"), "/tmp/my secrets/")).toBe(
      `curl -u "metrics:$(cat '/tmp/my secrets/metrics_password')" http://127.0.0.1:8000/metrics`,
    );
    expect(curlExample(credentialSpec("control"), "secrets")).toBe(
      `curl -u "control:$(cat secrets/control_password)" http://127.0.0.1:8000/control/scenario`,
    );
    const post = { ...credentialSpec("control"), method: "POST" as const, body: '{"scenario":"stall"}' };
    expect(curlExample(post, "secrets")).toBe(
      `curl -u "control:$(cat secrets/control_password)" -H 'Content-Type: application/json' -d '{"scenario":"stall"}' http://127.0.0.1:8000/control/scenario`,
    );
  });
});

describe("renderCredentialsReference", () => {
  const markdown = renderCredentialsReference({ dir: "secrets", credentials: STACK_CREDENTIALS });

  it("gives each credential its user, file, URL and curl example", () => {
    for (const c of STACK_CREDENTIALS) {
      expect(markdown).toContain(`## \`${c.name}\``);
      expect(markdown).toContain(`- user: \`${c.user}\``);
      expect(markdown).toContain(`- password: in \`secrets/${c.passwordFile}\``);
      expect(markdown).toContain(`<${c.url}>`);
      expect(markdown).toContain(curlExample(c, "secrets"));
    }
    expect(markdown).toContain("`secrets/prometheus-web.yml`");
    expect(markdown).toContain("--password-from-stdin < secrets/grafana_admin_password`");
  });

  it("quotes a folder with spaces in commands", () => {
    const spaced = renderCredentialsReference({ dir: "/tmp/my secrets", credentials: STACK_CREDENTIALS });
    expect(spaced).toContain(`$(cat '/tmp/my secrets/metrics_password')`);
    expect(spaced).toContain(`< '/tmp/my secrets/grafana_admin_password'`);
  });

  it("is the same text every time (no dates: a re-run changes nothing)", () => {
    expect(renderCredentialsReference({ dir: "secrets", credentials: STACK_CREDENTIALS })).toBe(markdown);
  });
});
