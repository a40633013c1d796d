/**
 * Rows of text in aligned columns, indented by two spaces, as the CLIs
 * print their reports. The last column is not padded, so no line ends in
 * spaces.
 *
 * @example
 * ```ts
 * import { textTable } from "./text_table.ts";
 * textTable([["prometheus", "up"], ["etl-metrics", "down"]]);
 * // ["  prometheus   up", "  etl-metrics  down"]
 * ```
 * @module
 */

/** Pads every cell but the last of each row to its column's widest cell. */
export function textTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")}`.trimEnd());
}
