import { collectDefaultMetrics, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { renderFamilies } from "./exposition.ts";
import { type CollectedMetric, processFamiliesPerSecond, toFamilies } from "./process_families.ts";

const seriesOf = (body: string) =>
  body.split("\n").filter((line) => line !== "" && !line.startsWith("# EOF")).map((line) => (line.startsWith("#") ? line : line.slice(0, line.lastIndexOf(" "))));

describe("process families", () => {
  it("render the series prom-client renders for its default metrics, in both formats", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    for (const format of ["text", "openmetrics"] as const) {
      registry.setContentType(format === "text" ? Registry.PROMETHEUS_CONTENT_TYPE : (Registry.OPENMETRICS_CONTENT_TYPE as typeof Registry.PROMETHEUS_CONTENT_TYPE));
      const theirs = await registry.metrics();
      const ours = renderFamilies(toFamilies(await registry.getMetricsAsJSON()), format);
      expect(seriesOf(ours)).toEqual(seriesOf(theirs));
      expect(ours).toContain("process_resident_memory_bytes");
    }
  });

  it("leave out a process gauge read as 0, which means /proc could not be read (Deno without --allow-all)", () => {
    const gauge = (name: string, value: number): CollectedMetric => ({ name, help: "H.", type: "gauge", values: [{ labels: {}, value }] });
    const kept = toFamilies([gauge("process_resident_memory_bytes", 0), gauge("process_open_fds", 0), gauge("process_max_fds", 1024), gauge("nodejs_active_handles", 0)]);
    expect(kept.map((f) => f.name)).toEqual(["process_max_fds", "nodejs_active_handles"]);
    expect(toFamilies([gauge("process_resident_memory_bytes", 52_000_000)])[0]!.values).toEqual([{ labels: {}, value: 52_000_000 }]);
  });

  it("are collected once per second and shared within it", async () => {
    let t = 10_000;
    let collections = 0;
    const collect = () => {
      collections++;
      const metric: CollectedMetric = { name: "c_total", help: "C.", type: "counter", values: [{ labels: { a: "x", b: undefined }, value: collections }] };
      return Promise.resolve([metric, { ...metric, name: "s", type: "summary" }]);
    };
    const source = processFamiliesPerSecond(collect, () => t);
    const first = await source();
    expect(first).toEqual([{ name: "c_total", help: "C.", type: "counter", values: [{ labels: { a: "x" }, value: 1 }] }]);
    t += 999;
    expect(await source()).toBe(first);
    t += 1;
    expect((await source())[0]!.values[0]!.value).toBe(2);
    expect(collections).toBe(2);
  });

  it("try again after a failed collection", async () => {
    let fail = true;
    const source = processFamiliesPerSecond(() => (fail ? Promise.reject(new Error("boom")) : Promise.resolve([])), () => 5_000);
    await expect(source()).rejects.toThrow("boom");
    fail = false;
    expect(await source()).toEqual([]);
  });
});
