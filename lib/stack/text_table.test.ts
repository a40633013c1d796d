import { describe, expect, it } from "vitest";
import { textTable } from "./text_table.ts";

describe("textTable", () => {
  it("aligns each column to its widest cell and leaves the last one unpadded", () => {
    expect(textTable([["prometheus", "up", "x"], ["etl-metrics", "down", ""]])).toEqual([
      "  prometheus   up    x",
      "  etl-metrics  down",
    ]);
  });

  it("gives nothing for no rows", () => {
    expect(textTable([])).toEqual([]);
  });
});
