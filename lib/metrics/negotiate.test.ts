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

describe("negotiateFormat: versions", () => {
  it.each([
    // A version we do not write is a format we cannot produce.
    ["application/openmetrics-text; version=99", "text"],
    ["application/openmetrics-text;version=0.0.1", "text"],
    ["application/openmetrics-text; version=2.0.0, text/plain; q=0.1", "text"],
    ['application/openmetrics-text; version="1.0.0"', "openmetrics"],
    ["application/openmetrics-text; VERSION=1.0.0; charset=utf-8", "openmetrics"],
    // Prometheus 3's default list: the unknown versions are skipped, 1.0.0 wins.
    ["application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1", "openmetrics"],
    // A text entry of a version we do not write does not outrank OpenMetrics.
    ["text/plain;version=9.9.9, application/openmetrics-text;version=1.0.0;q=0.5", "openmetrics"],
    ["text/plain;version=0.0.4, application/openmetrics-text;version=1.0.0;q=0.5", "text"],
  ])("%s -> %s", (accept, expected) => {
    expect(negotiateFormat(accept)).toBe(expected);
  });
});
