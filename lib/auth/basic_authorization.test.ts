import { describe, expect, it } from "vitest";
import { parseBasicAuthorization } from "../../handlers/basic_auth.ts";
import { basicAuthorization } from "./basic_authorization.ts";

describe("basicAuthorization", () => {
  it("encodes user:password in base64", () => {
    expect(basicAuthorization("readonly", "s3cret")).toBe("Basic cmVhZG9ubHk6czNjcmV0");
  });

  it("encodes as UTF-8, and the server side reads back what was sent", () => {
    expect(basicAuthorization("ü", "é")).toBe("Basic w7w6w6k=");
    expect(parseBasicAuthorization(basicAuthorization("control", "pä:ss wörd"))).toEqual({ user: "control", password: "pä:ss wörd" });
  });
});
