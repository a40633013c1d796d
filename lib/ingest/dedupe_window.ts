/**
 * The dedupe window of pushed events: the `event_id`s seen per pipeline,
 * each remembered for `windowMs` after it was taken and at most `maxIds` in
 * all (the oldest forgotten first), so memory stays bounded whatever clients send.
 *
 * @example
 * ```ts
 * import { DedupeWindow } from "./dedupe_window.ts";
 * const window = new DedupeWindow({ windowMs: 86_400_000, maxIds: 1_000_000 });
 * window.remember("orders", "0193...", Date.now());
 * window.has("orders", "0193...", Date.now()); // true
 * window.has("billing", "0193...", Date.now()); // false: ids are per pipeline
 * ```
 * @module
 */

/** Settings of a {@linkcode DedupeWindow}. */
export interface DedupeWindowOptions {
  windowMs: number;
  maxIds: number;
}

/** The remembered ids; see the module notes. */
export class DedupeWindow {
  // Insertion order is arrival order, so the oldest entries are always first.
  readonly #seen = new Map<string, number>();
  readonly #options: DedupeWindowOptions;

  constructor(options: DedupeWindowOptions) {
    this.#options = options;
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /** Whether `eventId` of `pipeline` was taken within the window. */
  has(pipeline: string, eventId: string, nowMs: number): boolean {
    this.#expire(nowMs);
    return this.#seen.has(keyOf(pipeline, eventId));
  }

  /** Remembers an id taken at `nowMs`. */
  remember(pipeline: string, eventId: string, nowMs: number): void {
    const key = keyOf(pipeline, eventId);
    this.#seen.delete(key);
    this.#seen.set(key, nowMs);
    while (this.#seen.size > this.#options.maxIds) this.#seen.delete(this.#seen.keys().next().value!);
  }

  #expire(nowMs: number): void {
    for (const [key, takenMs] of this.#seen) {
      if (takenMs > nowMs - this.#options.windowMs) return;
      this.#seen.delete(key);
    }
  }
}

// A pipeline name cannot contain a newline, so the key is unambiguous.
const keyOf = (pipeline: string, eventId: string) => `${pipeline}\n${eventId}`;
