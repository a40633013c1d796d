import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { isJsonContentType, readJsonBody } from "./json_body.ts";

const app = new Hono().post("/", async (c) => {
  const body = await readJsonBody(c, { notJson: "send JSON", unparsable: (why) => `not JSON: ${why}` });
  return body.ok ? c.json({ got: body.value }) : body.response;
});
const post = (body: string, type?: string) =>
  app.request("/", { method: "POST", body, headers: type === undefined ? {} : { "Content-Type": type } });

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

describe("isJsonContentType", () => {
  it("accepts application/json and +json types, whatever the parameters", () => {
    expect([isJsonContentType("application/json"), isJsonContentType("application/merge-patch+json"), isJsonContentType("text/plain"), isJsonContentType(null)])
      .toEqual([true, true, false, false]);
  });
});
