import { describe, expect, it } from "vitest";
import { createIngestToken, ingestTokenHash, ingestTokenMatches, isIngestTokenHash } from "./token.ts";

describe("ingest token", () => {
  it("is 32 random bytes, stored as SHA-256 hex, matched only by itself", () => {
    const token = createIngestToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createIngestToken()).not.toBe(token);
    expect(ingestTokenHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(isIngestTokenHash(ingestTokenHash(token))).toBe(true);
    expect(ingestTokenMatches(token, ingestTokenHash(token))).toBe(true);
    expect(ingestTokenMatches(token + "x", ingestTokenHash(token))).toBe(false);
    expect(ingestTokenMatches(token, "not-a-hash")).toBe(false);
  });
});
