import fc from "fast-check";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { EtlEvent } from "../etl/events.ts";
import { foldEvent } from "../etl/reducer.ts";
import { createIngestState } from "../etl/state.ts";
import { renderFamilies } from "./exposition.ts";
import { counterFamily, type Family, gaugeFamily } from "./family.ts";
import { CONTENT_TYPES, type ExpositionFormat } from "./negotiate.ts";
import { snapshotFamilies } from "./render.ts";

const T0 = Date.UTC(2026, 10, 23, 10);

/** What prom-client's registry writes for the same families, through its public API only. */
async function promClientBody(families: readonly Family[], format: ExpositionFormat): Promise<string> {
  const registry = new Registry();
  registry.setContentType(CONTENT_TYPES[format] as typeof Registry.PROMETHEUS_CONTENT_TYPE);
  for (const family of families) {
    // The shape registerMetric takes: the registry renames a counter for OpenMetrics before get().
    const metric = {
      name: family.name,
      help: family.help,
      type: family.type,
      aggregator: "sum",
      get(this: { name: string }) {
        return Promise.resolve({ name: this.name, help: family.help, type: family.type, aggregator: "sum", values: family.values });
      },
    };
    registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
  }
  return registry.metrics();
}

const pipelineName = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/);
const errorType = fc.oneof(fc.constantFrom("disk_full", "connection_timeout"), fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/));
const offsetMs = fc.integer({ min: 0, max: 900_000 });
const at = (ms: number) => new Date(T0 + ms).toISOString();

const event: fc.Arbitrary<EtlEvent> = fc.oneof(
  fc.record({ ms: offsetMs, pipeline: pipelineName }).map(({ ms, pipeline }) => ({ ts: at(ms), level: "info" as const, event: "etl_started" as const, pipeline })),
  fc.record({ ms: offsetMs, pipeline: pipelineName }).map(({ ms, pipeline }) => ({ ts: at(ms), level: "info" as const, event: "heartbeat" as const, pipeline })),
  fc
    .record({ ms: offsetMs, pipeline: pipelineName, records: fc.nat(10_000), duration: fc.double({ min: 0, max: 1e6, noNaN: true }) })
    .map(({ ms, pipeline, records, duration }) => ({
      ts: at(ms), level: "info" as const, event: "file_processed" as const, pipeline, file: "f.csv", records, duration_ms: duration,
    })),
  fc
    .record({ ms: offsetMs, pipeline: pipelineName, records: fc.nat(10_000), duration: fc.nat(1e6), type: errorType })
    .map(({ ms, pipeline, records, duration, type }) => ({
      ts: at(ms), level: "error" as const, event: "file_failed" as const, pipeline, file: "f.csv", records, duration_ms: duration, error_type: type, message: "m",
    })),
);

const exporterFacts = fc.option(
  fc.record({
    checkpointSavedAtMs: fc.option(fc.integer({ min: T0, max: T0 + 900_000 })),
    rotations: fc.nat(100),
    truncations: fc.nat(100),
    filesTailed: fc.nat(100),
  }),
  { nil: undefined },
);

describe("renderFamilies", () => {
  it("writes what prom-client's registry writes, for random states, in both formats", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { maxLength: 60 }),
        fc.integer({ min: 0, max: 1_200_000 }),
        exporterFacts,
        fc.boolean(),
        fc.constantFrom<ExpositionFormat>("text", "openmetrics"),
        async (events, nowOffsetMs, exporter, ready, format) => {
          const state = createIngestState();
          for (const e of events) foldEvent(state, e);
          state.lines.parsed = events.length;
          const families = snapshotFamilies({ state, nowMs: T0 + nowOffsetMs, ready, exporter });
          expect(renderFamilies(families, format)).toBe(await promClientBody(families, format));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("escapes label values and help, and writes infinities, as prom-client does", async () => {
    const text = fc.string({ unit: fc.constantFrom("a", "\\", "\n", '"', "é", " ", "{", "}") , maxLength: 12 });
    const value = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(Infinity, -Infinity, 0, -0, 1e21, 5e-324));
    const family = fc
      .record({
        counter: fc.boolean(),
        name: fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/),
        total: fc.boolean(),
        // `"` only in label values: OpenMetrics escapes it in HELP too, prom-client does not.
        help: text.map((s) => s.replaceAll('"', "'")),
        samples: fc.array(fc.record({ label: text, value }), { maxLength: 4 }),
      })
      .map(({ counter, name, total, help, samples }): Family => {
        const values = samples.map(({ label, value }) => ({ labels: { l: label, n: 3 }, value }));
        return counter ? counterFamily(total ? `${name}_total` : name, help, values) : gaugeFamily(name, help, values);
      });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(family, { selector: (f) => f.name.replace(/_total$/, ""), minLength: 1, maxLength: 4 }), fc.constantFrom<ExpositionFormat>("text", "openmetrics"), async (families, format) => {
        expect(renderFamilies(families, format)).toBe(await promClientBody(families, format));
      }),
      { numRuns: 300 },
    );
  });

  it("follows the formats where prom-client does not: NaN, and a quote in OpenMetrics HELP", () => {
    const families = [gaugeFamily("g", 'say "hi"\\', [{ labels: {}, value: Number.NaN }])];
    expect(renderFamilies(families, "text")).toBe('# HELP g say "hi"\\\\\n# TYPE g gauge\ng NaN\n');
    expect(renderFamilies(families, "openmetrics")).toBe('# HELP g say \\"hi\\"\\\\\n# TYPE g gauge\ng NaN\n# EOF\n');
  });

  it("writes no families as an empty body (text) or just # EOF (OpenMetrics)", () => {
    expect(renderFamilies([], "text")).toBe("\n");
    expect(renderFamilies([], "openmetrics")).toBe("# EOF\n");
  });

  it("writes an OpenMetrics counter family without _total and its samples with it", () => {
    const families = [counterFamily("c_total", "C.", [{ labels: { a: "x" }, value: 2 }]), gaugeFamily("g", "G.", [])];
    expect(renderFamilies(families, "openmetrics")).toBe('# HELP c C.\n# TYPE c counter\nc_total{a="x"} 2\n# HELP g G.\n# TYPE g gauge\n# EOF\n');
    expect(renderFamilies(families, "text")).toBe('# HELP c_total C.\n# TYPE c_total counter\nc_total{a="x"} 2\n\n# HELP g G.\n# TYPE g gauge\n');
  });
});
