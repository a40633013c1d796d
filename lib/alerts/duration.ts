/**
 * Prometheus duration strings from seconds, and back. Parameters are kept in
 * seconds (so they can be scaled for a time-compressed simulator) and only
 * turned into `5m`, `1m30s` or `2s500ms` when a rule is written.
 *
 * @example
 * ```ts
 * import { formatDuration, parseDuration } from "./duration.ts";
 * formatDuration(90); // "1m30s"
 * parseDuration("1m30s"); // 90
 * ```
 * @module
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
];

/**
 * Seconds as a Prometheus duration (compound units, whole milliseconds).
 *
 * @example
 * ```ts
 * formatDuration(300); // "5m"
 * formatDuration(0); // "0s"
 * formatDuration(2.5); // "2s500ms"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`not a duration: ${seconds}`);
  let ms = Math.round(seconds * 1000);
  if (ms === 0) return "0s";
  let out = "";
  for (const [unit, size] of UNITS) {
    const n = Math.floor(ms / size);
    if (n > 0) {
      out += `${n}${unit}`;
      ms -= n * size;
    }
  }
  return out;
}

/**
 * A Prometheus duration (`1h30m`, `15s`, `500ms`) in seconds.
 *
 * @example
 * ```ts
 * parseDuration("2m"); // 120
 * ```
 */
export function parseDuration(text: string): number {
  const re = /(\d+)(ms|[smhdwy])/gy;
  const sizes: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * sizes[m[2]!]!;
    at = re.lastIndex;
  }
  if (text === "" || at !== text.length) throw new SyntaxError(`not a Prometheus duration: ${JSON.stringify(text)}`);
  return total;
}
