// The CLI as `npm run stack` runs it (the bundle dist/stack.mjs, built by
// the test setup) and as `deno task stack` runs it (the source under Deno),
// from a folder outside the repository, on a machine without Docker.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { afterAll, describe, expect, it } from "vitest";
import { STACK_USAGE } from "../../lib/stack/stack_commands.ts";
import { DENO, ROOT } from "../../tests/harness.ts";

const elsewhere = mkdtempSync(join(tmpdir(), "stack-cwd-"));
// A PATH with no docker on it (nor anything else).
const NO_DOCKER = { PATH: elsewhere, HOME: process.env.HOME ?? elsewhere };

afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

const node = (args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "dist/stack.mjs"), ...args], { cwd: elsewhere, env: NO_DOCKER, encoding: "utf8" });
const deno = (args: string[]) =>
  spawnSync(DENO, ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-run", "--allow-sys", join(ROOT, "commands/stack/cli.ts"), ...args], {
    cwd: elsewhere,
    env: NO_DOCKER,
    encoding: "utf8",
  });

describe.each([["node dist/stack.mjs", node], ["deno run commands/stack/cli.ts", deno]] as const)("%s", (_name, run) => {
  it("prints the help from any folder", () => {
    const result = run(["--help"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${STACK_USAGE}\n`);
    expect(result.status).toBe(0);
  }, 60_000);

  it("says docker is missing, in one line and exit 1, without a stack trace", () => {
    const result = run(["status"]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("stack status: docker not found: install Docker (https://docs.docker.com/engine/install/) and make sure `docker` is on the PATH\n");
    expect(result.status).toBe(1);
  }, 60_000);

  it("refuses a wrong command line with exit 2", () => {
    const result = run(["up", "--timeout", "never"]);
    expect(result.stderr).toBe('stack up: Bad settings:\n  --timeout="never": must be a number\nUsage: npm run stack -- up [SERVICE...] [flags]; npm run stack -- up --help lists them.\n');
    expect(result.status).toBe(2);
  }, 60_000);
});
