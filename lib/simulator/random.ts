/**
 * A small seedable pseudo-random generator (sfc32), so a simulation can be
 * reproduced from its seed. Not for secrets: those use `crypto`.
 *
 * @example
 * ```ts
 * import { createRandom } from "./random.ts";
 * const random = createRandom(42);
 * random.next(); // the same sequence every time for seed 42
 * random.int(50, 500);
 * ```
 * @module
 */

/** A stream of numbers drawn from one seed. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform whole number in [min, max], both included. */
  int(min: number, max: number): number;
  /** Exponentially distributed with the given rate (mean 1/rate); `Infinity` for rate 0. */
  exponential(rate: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** Makes a generator from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  // Mix the seed in before use: neighbouring seeds must not give similar streams.
  for (let i = 0; i < 15; i++) next();
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    exponential: (rate) => (rate <= 0 ? Infinity : -Math.log(1 - next()) / rate),
    pick: (items) => {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor(next() * items.length)]!;
    },
  };
}
