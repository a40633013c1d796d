import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { isJsonContentType, jsonDepth, MAX_JSON_DEPTH, readJsonBody } from "./json_body.ts";

const app = new Hono().post("/", async (c) => {
  const body = await readJsonBody(c, { notJson: "send JSON", unparsable: (why) => `not JSON: ${why}` });
  return body.ok ? c.json({ got: body.value }) : body.response;
});
const post = (body: string | Uint8Array<ArrayBuffer>, type?: string, headers: Record<string, string> = {}) =>
  app.request("/", { method: "POST", body, headers: type === undefined ? headers : { "Content-Type": type, ...headers } });

describe("readJsonBody", () => {
  it("gives the parsed body of a JSON request", async () => {
    const response = await post('{"a":1}', "application/json; charset=utf-8");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ got: { a: 1 } });
  });

  it("answers 415 with the caller's message when the type is not JSON", async () => {
    const response = await post('{"a":1}', "application/x-www-form-urlencoded");
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: "send JSON" });
  });

  it("answers 400 with the caller's message and the parser's complaint when the text does not parse", async () => {
    const response = await post("{", "application/json");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^not JSON: .+/);
  });
});

describe("readJsonBody refuses, with a 4xx, bodies that can never succeed", () => {
  it("415 for a compressed body, which would otherwise be read as text", async () => {
    const response = await post('{"a":1}', "application/json", { "Content-Encoding": "gzip" });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: "Content-Encoding gzip is not accepted; send the body uncompressed" });
    expect((await post('{"a":1}', "application/json", { "Content-Encoding": "identity" })).status).toBe(200);
  });

  it("415 for a declared charset other than UTF-8", async () => {
    const response = await post('{"a":1}', "application/json; charset=iso-8859-1");
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: "charset iso-8859-1 is not accepted; send UTF-8" });
    expect((await post('{"a":1}', 'application/json; charset="UTF-8"')).status).toBe(200);
  });

  it("400 for invalid UTF-8, rather than reading it with replacement characters", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"a":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const response = await post(bytes, "application/json");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "not JSON: the body is not valid UTF-8" });
    expect(await (await post('{"a":"é"}', "application/json")).json()).toEqual({ got: { a: "é" } });
  });

  it("400 for nesting deeper than the limit, at any depth up to 100,000", async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 4_111, 100_000]) {
      const response = await post("[".repeat(depth) + "]".repeat(depth), "application/json");
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: `not JSON: nested more than ${MAX_JSON_DEPTH} deep` });
    }
    const deepest = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
    expect((await post(deepest, "application/json")).status).toBe(200);
  });
});

describe("jsonDepth", () => {
  it("counts arrays and objects, not brackets in strings or escaped quotes", () => {
    expect([jsonDepth("1"), jsonDepth("{}"), jsonDepth('{"a":[1,{"b":"]]]"}]}'), jsonDepth('["\\"[", [[]]]')]).toEqual([0, 1, 3, 3]);
    expect(jsonDepth('"\\"[[["')).toBe(0);
  });
});

describe("isJsonContentType", () => {
  it("accepts application/json and +json types, whatever the parameters", () => {
    expect([isJsonContentType("application/json"), isJsonContentType("application/merge-patch+json"), isJsonContentType("text/plain"), isJsonContentType(null)])
      .toEqual([true, true, false, false]);
  });
});
