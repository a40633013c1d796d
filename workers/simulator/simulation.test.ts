import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { recount } from "../../tools/recount.ts";
import { DEFAULT_PROFILE } from "../../lib/simulator/profile.ts";
import { createSimulation } from "./simulation.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const recountFile = (path: string) => recount(readFileSync(path, "utf8"), { maxLineBytes: 1 << 20 });

describe("createSimulation", () => {
  it("writes N events whose recount equals its own state, one file per pipeline", () => {
    const dir = tempDir();
    const sim = createSimulation({ logDir: dir, pipelines: { orders: DEFAULT_PROFILE, customers: DEFAULT_PROFILE }, seed: 5, speed: 1 });
    sim.generate(5_000);
    sim.stop();
    const orders = recountFile(join(dir, "orders.log"));
    const customers = recountFile(join(dir, "customers.log"));
    expect(orders.lines.parsed + customers.lines.parsed).toBe(5_000);
    expect(orders.lines.malformed + orders.lines.rejected).toBe(0);
    expect(sim.state.pipelines.orders).toEqual(orders.pipelines.orders);
    expect(sim.state.pipelines.customers).toEqual(customers.pipelines.customers);
  });

  it("emits in real time with time compressed by speed, and nothing while stalled", async () => {
    const dir = tempDir();
    const sim = createSimulation({ logDir: dir, pipelines: { etl: DEFAULT_PROFILE }, seed: 1, speed: 600 });
    sim.start();
    await new Promise((r) => setTimeout(r, 600));
    sim.setScenario("stall");
    const sizeAtStall = statSync(join(dir, "etl.log")).size;
    await new Promise((r) => setTimeout(r, 300));
    expect(statSync(join(dir, "etl.log")).size).toBe(sizeAtStall);
    sim.setScenario("normal");
    await new Promise((r) => setTimeout(r, 300));
    sim.stop();
    expect(statSync(join(dir, "etl.log")).size).toBeGreaterThan(sizeAtStall);
    const counted = recountFile(join(dir, "etl.log"));
    // At speed 600 about 6,000 records a second.
    expect(counted.pipelines.etl!.recordsTotal).toBeGreaterThan(1_000);
    expect(sim.state.pipelines.etl).toEqual(counted.pipelines.etl);
    expect(sim.scenario()).toBe("normal");
  });

  it("calls onCrash after crashAfterMs under the crash scenario", async () => {
    const dir = tempDir();
    let crashed = 0;
    const sim = createSimulation({
      logDir: dir, pipelines: { etl: DEFAULT_PROFILE }, seed: 1, speed: 1, scenario: "crash", crashAfterMs: 50, onCrash: () => crashed++,
    });
    sim.start();
    await new Promise((r) => setTimeout(r, 150));
    sim.stop();
    expect(crashed).toBe(1);
  });
});
