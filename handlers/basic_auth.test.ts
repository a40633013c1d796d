import { Buffer } from "node:buffer";
import bcrypt from "bcryptjs";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { createCredentialVerifier, type CredentialVerifier, type VerifyResult } from "../lib/auth/credential_verifier.ts";
import { basicAuth, parseBasicAuthorization } from "./basic_auth.ts";

const USER = "metrics";
const PASSWORD = "pa:ss wörd";
const CHALLENGE = 'Basic realm="etl-simulator", charset="UTF-8"';

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const basic = (user: string, password: string) => `Basic ${b64(`${user}:${password}`)}`;

function appWith(verifier: Pick<CredentialVerifier, "verify">) {
  return new Hono()
    .get("/health", (c) => c.text("healthy\n"))
    .use("/metrics", basicAuth(verifier, { realm: "etl-simulator" }))
    .get("/metrics", (c) => c.text("# metrics\n"));
}

/** A verifier that records what it was asked and answers as told. */
function stubVerifier(answer: VerifyResult) {
  const calls: [string, string][] = [];
  return {
    calls,
    verify(user: string, password: string) {
      calls.push([user, password]);
      return Promise.resolve(answer);
    },
  };
}

let app: Hono;
beforeAll(async () => {
  app = appWith(createCredentialVerifier({ user: USER, passwordHash: await bcrypt.hash(PASSWORD, 4) }));
});

async function expectChallenge(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("WWW-Authenticate")).toBe(CHALLENGE);
  expect(res.headers.get("Retry-After")).toBeNull();
  expect(await res.text()).toBe("Unauthorized\n");
}

describe("basicAuth middleware", () => {
  it("passes the right credentials through to the route", async () => {
    const res = await app.request("/metrics", { headers: { Authorization: basic(USER, PASSWORD) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
    expect(await res.text()).toBe("# metrics\n");
  });

  it("leaves routes it is not mounted on open", async () => {
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("healthy\n");
  });

  it("challenges a request without credentials", async () => {
    await expectChallenge(await app.request("/metrics"));
  });

  it("challenges a wrong password and an unknown user", async () => {
    await expectChallenge(await app.request("/metrics", { headers: { Authorization: basic(USER, "nope") } }));
    await expectChallenge(await app.request("/metrics", { headers: { Authorization: basic("admin", PASSWORD) } }));
  });

  it("challenges malformed headers without asking the verifier", async () => {
    const verifier = stubVerifier("ok");
    const stubbed = appWith(verifier);
    const malformed = [
      "Basic",
      "Basic ",
      "Basic !!!!",
      "Basic bWV0cmljcw==", // "metrics", no colon
      `Basic ${b64(USER)}`,
      "Basic YQ=", // bad padding
      "Basic Y", // impossible length
      `Basic ${Buffer.from([0x6d, 0x3a, 0xff, 0xfe]).toString("base64")}`, // "m:" + invalid UTF-8
      `Bearer ${b64(`${USER}:${PASSWORD}`)}`,
      `Basic ${b64(`${USER}:${PASSWORD}`)} extra`,
      `Basic${b64(`${USER}:${PASSWORD}`)}`,
      "%%%%",
    ];
    for (const header of malformed) {
      await expectChallenge(await stubbed.request("/metrics", { headers: { Authorization: header } }));
    }
    expect(verifier.calls).toEqual([]);
  });

  it("answers 503 with Retry-After when the verifier is busy", async () => {
    const busy = appWith(stubVerifier("busy"));
    const res = await busy.request("/metrics", { headers: { Authorization: basic(USER, PASSWORD) } });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
  });

  it("holds a 503 back for busyDelayMs, so a flood's connections are paced, and nothing else", async () => {
    const waits: number[] = [];
    let release = () => {};
    const sleep = (ms: number) => {
      waits.push(ms);
      return new Promise<void>((resolve) => (release = resolve));
    };
    const app = (answer: VerifyResult, busyDelayMs?: number) =>
      new Hono().use("/metrics", basicAuth(stubVerifier(answer), { realm: "etl-simulator", sleep, busyDelayMs })).get("/metrics", (c) => c.text("# metrics\n"));
    let settled = false;
    const pending = Promise.resolve(app("busy").request("/metrics", { headers: { Authorization: basic(USER, PASSWORD) } })).then((res) => ((settled = true), res));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(waits).toEqual([250]);
    expect(settled).toBe(false);
    release();
    expect((await pending).status).toBe(503);
    // Granted and denied answers are not held, nor is a 503 with busyDelayMs 0.
    expect((await app("ok").request("/metrics", { headers: { Authorization: basic(USER, PASSWORD) } })).status).toBe(200);
    expect((await app("denied").request("/metrics", { headers: { Authorization: basic(USER, PASSWORD) } })).status).toBe(401);
    expect((await app("busy", 0).request("/metrics", { headers: { Authorization: basic(USER, PASSWORD) } })).status).toBe(503);
    expect(waits).toEqual([250]);
    expect(() => basicAuth(stubVerifier("ok"), { realm: "r", busyDelayMs: -1 })).toThrow(RangeError);
  });

  it("hands the verifier the user and everything after the first colon", async () => {
    const verifier = stubVerifier("ok");
    const res = await appWith(verifier).request("/metrics", {
      headers: { Authorization: `bAsIc   ${b64("métrics:a:b:")}` },
    });
    expect(res.status).toBe(200);
    expect(verifier.calls).toEqual([["métrics", "a:b:"]]);
  });

  it("refuses a realm that would need escaping", () => {
    const verifier = stubVerifier("ok");
    expect(() => basicAuth(verifier, { realm: 'say "hi"' })).toThrow(/realm/);
    expect(() => basicAuth(verifier, { realm: "back\\slash" })).toThrow(/realm/);
    expect(() => basicAuth(verifier, { realm: "" })).toThrow(/realm/);
    expect(() => basicAuth(verifier, { realm: "line\nbreak" })).toThrow(/realm/);
  });
});

describe("parseBasicAuthorization", () => {
  it("decodes padded and unpadded tokens, with an empty user or password", () => {
    expect(parseBasicAuthorization(basic(USER, PASSWORD))).toEqual({ user: USER, password: PASSWORD });
    expect(parseBasicAuthorization("Basic YTpi")).toEqual({ user: "a", password: "b" });
    expect(parseBasicAuthorization("Basic YTpiYw")).toEqual({ user: "a", password: "bc" });
    expect(parseBasicAuthorization(`Basic ${b64(":")}`)).toEqual({ user: "", password: "" });
  });

  it("returns null for anything else", () => {
    expect(parseBasicAuthorization(undefined)).toBeNull();
    expect(parseBasicAuthorization(null)).toBeNull();
    expect(parseBasicAuthorization("")).toBeNull();
    expect(parseBasicAuthorization("Basic bWV0cmljcw==")).toBeNull();
    expect(parseBasicAuthorization("Basic ====")).toBeNull();
  });
});
