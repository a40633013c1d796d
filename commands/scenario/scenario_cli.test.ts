import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_HINTS, parseCommand, runScenarioCommand, SCENARIO_HELP, ScenarioError, type ScenarioHints } from "./scenario_cli.ts";

let dir = "";
let passwordFile = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scenario-cli-"));
  passwordFile = join(dir, "control_password");
  await writeFile(passwordFile, "s3cret-control-password\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("parseCommand", () => {
  it("defaults to the dev simulator and its credential", () => {
    expect(parseCommand(["stall"], {})).toEqual({
      ok: true,
      options: { url: "http://127.0.0.1:8000", user: "control", passwordFile: "secrets/control_password", scenario: "stall" },
    });
    expect(parseCommand(["--status"], { SIMULATOR_PORT: "9000", ETL_CONTROL_USER: "ops" })).toEqual({
      ok: true,
      options: { url: "http://127.0.0.1:9000", user: "ops", passwordFile: "secrets/control_password", scenario: undefined },
    });
    expect(parseCommand(["--url", "http://h:1/", "normal"], { SIMULATOR_URL: "http://other:2" })).toMatchObject({ ok: true, options: { url: "http://h:1" } });
  });

  it("explains a wrong command line with exit 2, and --help with 0", () => {
    expect(parseCommand([], {})).toMatchObject({ ok: false, code: 2, message: expect.stringMatching(/^name a scenario, or --status\n/) });
    expect(parseCommand(["a", "b"], {})).toMatchObject({ ok: false, code: 2, message: expect.stringMatching(/^one scenario at a time, got a b\n/) });
    expect(parseCommand(["stall", "--status"], {})).toMatchObject({ ok: false, code: 2 });
    expect(parseCommand(["--url", "ftp://x", "stall"], {})).toEqual({ ok: false, code: 2, message: '--url must be an http:// or https:// URL, got "ftp://x"' });
    const help = parseCommand(["--help"], {});
    expect(help).toMatchObject({ ok: false, code: 0 });
    for (const name of Object.keys(SCENARIO_HELP)) expect(!help.ok && help.message).toContain(`  ${name.padEnd(15)} `);
  });
});

type Call = { url: string; method: string; authorization: string; body: string | undefined };

function fakeFetch(status: number, body: string, calls: Call[] = []): typeof fetch {
  return (async (url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ url: String(url), method: init?.method ?? "GET", authorization: headers.get("authorization") ?? "", body: init?.body as string | undefined });
    return new Response(body, { status });
  }) as typeof fetch;
}

const refused = (async () => {
  throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
}) as typeof fetch;

const STACK_HINTS: ScenarioHints = { start: "npm run stack -- up", passwordMade: "npm run stack -- up makes it", crash: "its container restarts" };

async function failure(promise: Promise<unknown>): Promise<[number, string]> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return [(error as ScenarioError).code, (error as Error).message];
  }
  throw new Error("expected a failure");
}

describe("runScenarioCommand", () => {
  const options = () => ({ url: "http://127.0.0.1:8000", user: "control", passwordFile, scenario: "stall" as string | undefined });

  it("PUTs the scenario with basic auth and reads the answer", async () => {
    const calls: Call[] = [];
    const line = await runScenarioCommand(options(), fakeFetch(200, '{"scenario":"stall","since":"2026-11-24T01:10:00.000Z"}', calls));
    expect(line).toBe("scenario stall since 2026-11-24T01:10:00.000Z");
    expect(calls).toEqual([{
      url: "http://127.0.0.1:8000/control/scenario",
      method: "PUT",
      authorization: `Basic ${btoa("control:s3cret-control-password")}`,
      body: '{"scenario":"stall"}',
    }]);
  });

  it("GETs the scenario for --status", async () => {
    const calls: Call[] = [];
    await runScenarioCommand({ ...options(), scenario: undefined }, fakeFetch(200, '{"scenario":"normal","since":"x"}', calls));
    expect(calls.map((c) => [c.method, c.body])).toEqual([["GET", undefined]]);
  });

  it("tells what crash does, in the words of whoever started the simulator", async () => {
    const answer = '{"scenario":"crash","since":"t"}';
    expect(await runScenarioCommand({ ...options(), scenario: "crash" }, fakeFetch(200, answer))).toBe(
      "scenario crash since t\nthe simulator exits with code 3 in about 1 s (npm run dev keeps the exporter running)",
    );
    expect(await runScenarioCommand({ ...options(), scenario: "crash" }, fakeFetch(200, answer), STACK_HINTS)).toBe(
      "scenario crash since t\nthe simulator exits with code 3 in about 1 s (its container restarts)",
    );
  });

  it("explains each failure with its exit code", async () => {
    expect(await failure(runScenarioCommand(options(), fakeFetch(401, "")))).toEqual([
      1,
      `wrong control password in ${passwordFile} (or user "control"), refused by http://127.0.0.1:8000/control/scenario`,
    ]);
    expect(await failure(runScenarioCommand(options(), fakeFetch(400, '{"error":"unknown scenario \\"boom\\""}')))).toEqual([
      2,
      'the simulator refused: unknown scenario "boom"',
    ]);
    expect(await failure(runScenarioCommand(options(), fakeFetch(404, "not found")))).toEqual([
      1,
      "http://127.0.0.1:8000/control/scenario not found: is http://127.0.0.1:8000 the simulator, and a version with the control endpoint?",
    ]);
    expect(await failure(runScenarioCommand(options(), fakeFetch(502, "Bad Gateway")))).toEqual([
      1,
      "unexpected answer from http://127.0.0.1:8000/control/scenario: HTTP 502 Bad Gateway",
    ]);
  });

  it("says how to start the simulator, for npm run dev by default and as told otherwise", async () => {
    expect(DEV_HINTS.start).toBe("npm run dev");
    expect(await failure(runScenarioCommand(options(), refused))).toEqual([1, "cannot reach http://127.0.0.1:8000 (ECONNREFUSED), is it running? (npm run dev)"]);
    expect(await failure(runScenarioCommand(options(), refused, STACK_HINTS))).toEqual([
      1,
      "cannot reach http://127.0.0.1:8000 (ECONNREFUSED), is it running? (npm run stack -- up)",
    ]);
    const missing = join(dir, "none");
    expect(await failure(runScenarioCommand({ ...options(), passwordFile: missing }, refused))).toEqual([
      1,
      `cannot read the control password file ${missing}: not found (the simulator makes it on first run: npm run dev)`,
    ]);
    expect(await failure(runScenarioCommand({ ...options(), passwordFile: missing }, refused, STACK_HINTS))).toEqual([
      1,
      `cannot read the control password file ${missing}: not found (npm run stack -- up makes it)`,
    ]);
  });

  it("refuses an empty password file and a bcrypt hash given as the password", async () => {
    const empty = join(dir, "empty");
    await writeFile(empty, "\n");
    expect(await failure(runScenarioCommand({ ...options(), passwordFile: empty }, refused))).toEqual([1, `the control password file ${empty} is empty`]);
    const hash = join(dir, "hash");
    await writeFile(hash, `$2b$10$${"N".repeat(53)}\n`);
    expect((await failure(runScenarioCommand({ ...options(), passwordFile: hash }, refused)))[1]).toBe(
      `${hash} holds a bcrypt hash, which the simulator checks against; give the password's file with --password-file`,
    );
  });
});
