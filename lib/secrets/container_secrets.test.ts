import { describe, expect, it } from "vitest";
import { STACK_CREDENTIALS } from "./secrets_layout.ts";
import { CONTAINER_SECRETS, planSecretCopies, secretFilesNeeded } from "./container_secrets.ts";

describe("CONTAINER_SECRETS", () => {
  it("names only files that `npm run secrets` makes", () => {
    // The push token's hash is made beside the credentials (workers/ingest_token.ts).
    const made = new Set<string>(["prometheus-web.yml", "ingest_token.sha256"]);
    for (const credential of STACK_CREDENTIALS) {
      made.add(credential.passwordFile);
      if (credential.hash.kind === "file") made.add(credential.hash.file);
    }
    expect(secretFilesNeeded(CONTAINER_SECRETS).filter((file) => !made.has(file))).toEqual([]);
  });

  it("never gives a service a password whose hash it checks (it gets the hash)", () => {
    expect(CONTAINER_SECRETS.etl.files.filter((file) => !file.endsWith(".bcrypt") && !file.endsWith(".sha256"))).toEqual([]);
  });

  it("lists the 9 distinct files the init service receives", () => {
    expect(secretFilesNeeded(CONTAINER_SECRETS)).toEqual([
      "control_password.bcrypt",
      "grafana_admin_password",
      "ingest_token.sha256",
      "metrics_password",
      "metrics_password.bcrypt",
      "prometheus-web.yml",
      "prometheus_readonly_password",
      "receiver_password",
      "receiver_password.bcrypt",
    ]);
  });
});

describe("planSecretCopies", () => {
  it("maps each share's files to its folder with its owner", () => {
    const plan = planSecretCopies({ a: { uid: 1, gid: 2, files: ["x", "y"] }, b: { uid: 3, gid: 4, files: ["x"] } }, "/in", "/out");
    expect(plan).toEqual([
      { from: "/in/x", to: "/out/a/x", uid: 1, gid: 2 },
      { from: "/in/y", to: "/out/a/y", uid: 1, gid: 2 },
      { from: "/in/x", to: "/out/b/x", uid: 3, gid: 4 },
    ]);
  });
});
