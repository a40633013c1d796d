import { describe, expect, it } from "vitest";
import { negotiateFormat } from "./negotiate.ts";

describe("negotiateFormat", () => {
  it.each([
    [undefined, "text"],
    ["", "text"],
    ["*/*", "text"],
    ["text/plain", "text"],
    ["application/openmetrics-text", "openmetrics"],
    // What Prometheus 2.42 sends.
    ["application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "openmetrics"],
    ["text/plain;q=1, application/openmetrics-text;q=0.5", "text"],
    ["application/openmetrics-text;q=0", "text"],
    ["application/openmetrics-text;q=abc", "text"],
  ])("%s -> %s", (accept, expected) => {
    expect(negotiateFormat(accept)).toBe(expected);
  });
});
