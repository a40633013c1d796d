import { Buffer } from "node:buffer";
import bcrypt from "bcryptjs";
import type { MiddlewareHandler } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { createCredentialVerifier } from "../lib/auth/credential_verifier.ts";
import type { Scenario } from "../lib/simulator/profile.ts";
import { basicAuth } from "./basic_auth.ts";
import { createControlApp, type ScenarioControl, scenarioRequestProblem } from "./control.ts";
import { isJsonContentType } from "./json_body.ts";

const T0 = Date.UTC(2026, 10, 23, 10);
const VALID = "valid scenarios: normal, stall, crash, slow, error-burst, low-throughput, late, hung, empty, volume-drop";
const PASSWORD = "control-pass";
const auth = { Authorization: `Basic ${Buffer.from(`control:${PASSWORD}`).toString("base64")}` };
const json = { ...auth, "Content-Type": "application/json" };

/** A control over a plain variable, with a clock the test moves, recording each set. */
function fakeControl(initial: Scenario = "normal") {
  let now = T0;
  let state = { scenario: initial, sinceMs: T0 };
  const sets: Scenario[] = [];
  const control: ScenarioControl = {
    current: () => state,
    set(scenario) {
      sets.push(scenario);
      if (scenario !== state.scenario) state = { scenario, sinceMs: now };
    },
  };
  return { control, sets, advance: (ms: number) => (now += ms) };
}

let realAuth: MiddlewareHandler;
beforeAll(async () => {
  const verifier = createCredentialVerifier({ user: "control", passwordHash: await bcrypt.hash(PASSWORD, 4) });
  realAuth = basicAuth(verifier, { realm: "etl-control" });
});

function appWith(initial: Scenario = "normal") {
  const fake = fakeControl(initial);
  return { ...fake, app: createControlApp({ control: fake.control, auth: realAuth }) };
}

describe("GET /control/scenario", () => {
  it("answers the running scenario and since when", async () => {
    const { app } = appWith("slow");
    const res = await app.request("/control/scenario", { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ scenario: "slow", since: "2026-11-23T10:00:00.000Z" });
  });

  it("needs credentials, and a wrong password is refused", async () => {
    const { app } = appWith();
    const none = await app.request("/control/scenario");
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toBe('Basic realm="etl-control", charset="UTF-8"');
    const wrong = await app.request("/control/scenario", {
      headers: { Authorization: `Basic ${Buffer.from("control:nope").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
  });
});

describe("PUT and POST /control/scenario", () => {
  it.each(["PUT", "POST"])("%s switches and answers the new state", async (method) => {
    const { app, sets, advance } = appWith();
    advance(90_000);
    const res = await app.request("/control/scenario", { method, headers: json, body: JSON.stringify({ scenario: "stall" }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ scenario: "stall", since: "2026-11-23T10:01:30.000Z" });
    expect(sets).toEqual(["stall"]);
    const after = await app.request("/control/scenario", { headers: auth });
    expect(await after.json()).toEqual({ scenario: "stall", since: "2026-11-23T10:01:30.000Z" });
  });

  it("accepts JSON declared with a charset or as a +json type", async () => {
    const { app, sets } = appWith();
    for (const type of ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]) {
      const res = await app.request("/control/scenario", {
        method: "PUT", headers: { ...auth, "Content-Type": type }, body: '{"scenario":"error-burst"}',
      });
      expect(res.status).toBe(200);
    }
    expect(sets).toEqual(["error-burst", "error-burst", "error-burst"]);
  });

  it("refuses an unknown scenario with 400, listing the valid ones, and switches nothing", async () => {
    const { app, sets } = appWith();
    const res = await app.request("/control/scenario", { method: "PUT", headers: json, body: '{"scenario":"boom"}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: `unknown scenario "boom"; ${VALID}` });
    expect(sets).toEqual([]);
  });

  it.each([
    ["{}", `missing field "scenario"; ${VALID}`],
    ['{"scenario":3}', `"scenario" must be a string; ${VALID}`],
    ['["stall"]', `expected a JSON object such as {"scenario": "stall"}; ${VALID}`],
    ['"stall"', `expected a JSON object such as {"scenario": "stall"}; ${VALID}`],
    ["null", `expected a JSON object such as {"scenario": "stall"}; ${VALID}`],
    ['{"scenario":"stall","force":true}', `unknown field "force"; ${VALID}`],
  ])("refuses the body %s with 400", async (body, error) => {
    const { app, sets } = appWith();
    const res = await app.request("/control/scenario", { method: "PUT", headers: json, body });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error });
    expect(sets).toEqual([]);
  });

  it("refuses a body that is not JSON with 400", async () => {
    const { app } = appWith();
    for (const body of ["stall", "", '{"scenario":']) {
      const res = await app.request("/control/scenario", { method: "PUT", headers: json, body });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: string };
      expect(error).toMatch(/^body is not JSON \(.+\); send \{"scenario": "stall"\}; valid scenarios: normal, stall, crash/);
    }
  });

  it("refuses a body not declared JSON with 415", async () => {
    const { app, sets } = appWith();
    for (const headers of [auth, { ...auth, "Content-Type": "application/x-www-form-urlencoded" }, { ...auth, "Content-Type": "text/plain" }]) {
      const res = await app.request("/control/scenario", { method: "PUT", headers, body: '{"scenario":"stall"}' });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({
        error: 'send the body as JSON (Content-Type: application/json), such as {"scenario": "stall"}',
      });
    }
    expect(sets).toEqual([]);
  });

  it("refuses a body over 4 KiB with 413", async () => {
    const { app, sets } = appWith();
    const body = JSON.stringify({ scenario: "stall", pad: "x".repeat(5000) });
    const res = await app.request("/control/scenario", { method: "PUT", headers: json, body });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'body over 4096 bytes; send {"scenario": "stall"}' });
    expect(res.headers.get("Connection")).toBe("close");
    expect(sets).toEqual([]);
  });

  it("checks credentials before anything else: no switch, no hint about the body", async () => {
    const { app, sets } = appWith();
    const res = await app.request("/control/scenario", {
      method: "PUT", headers: { "Content-Type": "text/plain" }, body: "garbage",
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe("Unauthorized\n");
    expect(sets).toEqual([]);
  });

  it("answers other methods with 405 and Allow", async () => {
    const { app } = appWith();
    const res = await app.request("/control/scenario", { method: "DELETE", headers: auth });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, PUT, POST");
    expect(await res.json()).toEqual({ error: "method DELETE not allowed; use GET, PUT or POST" });
  });

  it("is not reachable under another path", async () => {
    const { app } = appWith();
    expect((await app.request("/control/other", { headers: auth })).status).toBe(404);
  });
});

describe("isJsonContentType and scenarioRequestProblem", () => {
  it("tell JSON content types apart", () => {
    expect(isJsonContentType("application/json")).toBe(true);
    expect(isJsonContentType(" application/json ;charset=UTF-8")).toBe(true);
    expect(isJsonContentType("application/vnd.api+json")).toBe(true);
    expect(isJsonContentType("application/jsonx")).toBe(false);
    expect(isJsonContentType("text/json")).toBe(false);
    expect(isJsonContentType("")).toBe(false);
    expect(isJsonContentType(null)).toBe(false);
  });

  it("say nothing about a good request", () => {
    for (const scenario of ["normal", "stall", "crash", "slow", "error-burst", "low-throughput"]) {
      expect(scenarioRequestProblem({ scenario })).toBeNull();
    }
  });
});
