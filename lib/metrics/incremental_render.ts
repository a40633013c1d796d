/**
 * Renders a scrape keeping each pipeline's part of each family, so that a
 * render writes again only the pipelines whose state changed since the last
 * one, and of the others only the families that read the clock (rates,
 * seconds since, health, uptime, the pipeline's state). At 1,000 pipelines
 * one line read then costs one pipeline's 32 series and the clock's 11,000,
 * not 32,000. The body is byte for byte what {@link ./render.ts} writes for
 * the same snapshot (`incremental_render.test.ts` checks that for random
 * states, folds and times).
 *
 * Which pipelines changed is found by value, not told: each pipeline's state
 * and runs (all but the per-second window, which only clock families read)
 * are walked into a flat list of their values and compared with the list of
 * the last render. That costs about 90 comparisons a pipeline and needs
 * nothing from whatever folds lines into the state (the fold mutates in
 * place, so object identity would not tell). A new catalog, catalog loading
 * time or health policy renders everything again.
 *
 * @example
 * ```ts
 * import { incrementalRenderer } from "./incremental_render.ts";
 * const render = incrementalRenderer("text");
 * const body = render(snapshot, processFamilies);
 * ```
 * @module
 */
import type { Snapshot } from "../etl/snapshot.ts";
import { etlPipelineFamilies } from "./etl_families.ts";
import { exporterFamilies } from "./exporter_families.ts";
import { familyHeader, joinFamilyBlocks, type LabelStrings, renderSamples } from "./exposition.ts";
import type { Family, PerPipelineFamilies, Sample } from "./family.ts";
import type { ExpositionFormat } from "./negotiate.ts";
import { countsFromNow, runGlobalFamilies, runPipelineFamilies } from "./run_families.ts";

/** Renders a snapshot to a body, reusing what has not changed since its last call. */
export type IncrementalRenderer = (snapshot: Snapshot, processFamilies?: readonly Family[]) => string;

/**
 * The values of an object tree in walk order, compared with those of the last walk as it goes:
 * `changed` tells whether any differs. Key names are values too (error types are labels).
 */
class Fingerprint {
  private readonly values: unknown[] = [];
  private i = 0;
  changed = false;

  /** Walks `tree`, leaving out a top-level key named `skip`; true when anything differs from the last walk. */
  walk(trees: readonly unknown[], skip: string): boolean {
    this.i = 0;
    this.changed = false;
    for (const tree of trees) this.visit(tree, skip);
    if (this.i !== this.values.length) {
      this.values.length = this.i;
      this.changed = true;
    }
    return this.changed;
  }

  private see(value: unknown): void {
    if (this.values[this.i] !== value || this.i >= this.values.length) {
      this.values[this.i] = value;
      this.changed = true;
    }
    this.i++;
  }

  private visit(value: unknown, skip?: string): void {
    if (value === null || typeof value !== "object") return this.see(value);
    if (Array.isArray(value)) {
      this.see("[");
      this.see(value.length);
      for (const item of value) this.visit(item);
      return;
    }
    this.see("{");
    for (const key in value) {
      if (key === skip) continue;
      this.see(key);
      this.visit((value as Record<string, unknown>)[key]);
    }
    this.see("}");
  }
}

/** What is kept of one pipeline: the fingerprint of its inputs and its lines per family of each table. */
interface PipelinePart {
  fingerprint: Fingerprint;
  etl: string[];
  run: string[];
}

/** The per-second window: only the rate and average families read it, and they read the clock too. */
const WINDOW_KEY = "window";

/** Makes a renderer of `format` keeping the parts of the last render. */
export function incrementalRenderer(format: ExpositionFormat): IncrementalRenderer {
  let context: unknown[] = [];
  const parts = new Map<string, PipelinePart>();
  let etlBlocks: string[] = [];
  let runBlocks: string[] = [];
  let lastEtlNames: readonly string[] = [];
  let lastRunNames: readonly string[] = [];

  const sameContext = (next: unknown[]) => next.length === context.length && next.every((v, i) => v === context[i]);
  const sameNames = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n, i) => n === b[i]);

  /**
   * Renders the samples of `name` into `lines`: every family when `all`, else only the clock's;
   * marks in `changed` the families whose lines are not those of the last render.
   */
  function renderPart(table: PerPipelineFamilies, name: string, lines: string[], all: boolean, changed: boolean[]): void {
    const out = table.heads.map((_, i): Sample[] | undefined => (all || table.clock[i] ? [] : undefined));
    table.samples(name, out);
    const labelStrings: LabelStrings = new Map();
    out.forEach((samples, i) => {
      if (samples === undefined) return;
      const text = renderSamples(table.heads[i]!, format, samples, labelStrings);
      if (text !== lines[i]) {
        lines[i] = text;
        changed[i] = true;
      }
    });
  }

  /** The blocks of `table`: those of the last render again, but for the families in `changed`. */
  function blocksOf(table: PerPipelineFamilies, ordered: readonly string[][], changed: readonly boolean[], last: readonly string[]): string[] {
    return table.heads.map((head, i) => {
      if (!changed[i] && last[i] !== undefined) return last[i]!;
      const lines: string[] = [familyHeader(head, format)];
      for (const part of ordered) lines.push(part[i]!);
      return lines.join("");
    });
  }

  return (snapshot, processFamilies = []) => {
    const { state } = snapshot;
    const nextContext = [snapshot.catalog, snapshot.catalogLoadedAtMs, JSON.stringify(snapshot.healthPolicy ?? null)];
    if (!sameContext(nextContext)) {
      context = nextContext;
      parts.clear();
      etlBlocks = [];
      runBlocks = [];
    }
    const etl = etlPipelineFamilies(state, snapshot.nowMs, snapshot.healthPolicy);
    const run = runPipelineFamilies(snapshot);
    // A new or dropped pipeline changes every block; otherwise only what a part's lines changed.
    const etlChanged = etl.heads.map(() => !sameNames(etl.names, lastEtlNames));
    const runChanged = run.heads.map(() => !sameNames(run.names, lastRunNames));
    const seen = new Set<string>();
    // Every pipeline the logs know is in the run table's names too.
    for (const name of run.names) {
      seen.add(name);
      let part = parts.get(name);
      if (part === undefined) {
        part = { fingerprint: new Fingerprint(), etl: [], run: [] };
        parts.set(name, part);
      }
      const inLogs = Object.hasOwn(state.pipelines, name);
      const trees = [inLogs ? state.pipelines[name] : null, Object.hasOwn(state.runs, name) ? state.runs[name] : null];
      const changed = part.fingerprint.walk(trees, WINDOW_KEY) || countsFromNow(snapshot, name);
      if (inLogs) renderPart(etl, name, part.etl, changed, etlChanged);
      renderPart(run, name, part.run, changed, runChanged);
    }
    if (parts.size !== seen.size) for (const name of parts.keys()) if (!seen.has(name)) parts.delete(name);

    etlBlocks = blocksOf(etl, etl.names.map((n) => parts.get(n)!.etl), etlChanged, etlBlocks);
    runBlocks = blocksOf(run, run.names.map((n) => parts.get(n)!.run), runChanged, runBlocks);
    lastEtlNames = etl.names;
    lastRunNames = run.names;

    // The few families that are not per pipeline are written afresh each time.
    const rest = [...runGlobalFamilies(snapshot)];
    if (snapshot.exporter) rest.push(...exporterFamilies(state, snapshot.exporter, snapshot.ready, snapshot.nowMs));
    rest.push(...processFamilies);
    const labelStrings: LabelStrings = new Map();
    const restBlocks = rest.map((f) => familyHeader(f, format) + renderSamples(f, format, f.values, labelStrings));
    return joinFamilyBlocks([...etlBlocks, ...runBlocks, ...restBlocks], format);
  };
}
