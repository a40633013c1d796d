/**
 * Every query of every panel of the Grafana dashboard, run against real
 * Prometheus (Debian's, on 127.0.0.1) scraping the real exporter and
 * simulator, as Grafana would send it: the committed dashboard JSON, its
 * variables substituted the way Grafana does, through Prometheus's HTTP API
 * as the `readonly` user the provisioned data source uses. Each must return
 * at least one series with a finite value: a panel that shows nothing is a
 * defect.
 *
 * One stack for all queries; the simulator runs at SPEED in normal running,
 * and the test polls until every query has data (that time is reported).
 * Time variables are those of a dashboard showing the last 5 minutes, and
 * $__rate_interval is computed as Grafana does from the 1 s scrape interval.
 *
 * Required when CI=true; skipped with an install hint otherwise.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_NAMES } from "../lib/alerts/rules.ts";
import { BATCH_PANEL_TITLES, DASHBOARD_PATH } from "../lib/dashboard/dashboard.ts";
import { expandGrafanaVariables, rateIntervalSeconds } from "../lib/dashboard/promql.ts";
import { haveServerBinaries, INSTALL_HINT, type NativeStack } from "../commands/stack/native.ts";
import { cleanup, ROOT, startTestStack, tempDir, waitFor } from "./harness.ts";

const SPEED = 10;
const SCRAPE_SECONDS = 1;
/** The dashboard's time range in this test: the last 5 minutes (the stack is younger than that). */
const RANGE_SECONDS = 300;
/** Grafana's $__interval for that range on a panel of about 150 points. */
const INTERVAL_SECONDS = 2;
/** How long the stack may take to give every query data. */
const DATA_DEADLINE_MS = 150_000;

const available = haveServerBinaries();
const required = process.env.CI === "true";
if (!available && !required) console.warn(`Grafana query tests skipped: ${INSTALL_HINT}`);

interface Target {
  refId: string;
  expr: string;
  instant: boolean;
  range: boolean;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  interval?: string;
  targets?: Target[];
}

type Sample = [number, string];
interface Series {
  metric: Record<string, string>;
  value?: Sample;
  values?: Sample[];
}

/** A query of the dashboard, ready to send. */
interface PanelQuery {
  panel: Panel;
  target: Target;
  /** The pipeline selection it was expanded for. */
  selection: string;
  expr: string;
}

const dashboard = JSON.parse(readFileSync(join(ROOT, DASHBOARD_PATH), "utf8")) as { panels: Panel[] };
const panels = dashboard.panels.filter((p) => p.type !== "row");

/** The variables as Grafana would substitute them for `pipeline` (a regex selection). */
function variables(pipeline: string) {
  return {
    pipeline,
    __interval: `${INTERVAL_SECONDS}s`,
    __rate_interval: `${rateIntervalSeconds({ scrapeSeconds: SCRAPE_SECONDS, intervalSeconds: INTERVAL_SECONDS })}s`,
    __range: `${RANGE_SECONDS}s`,
    datasource: "prometheus",
  };
}

/**
 * The simulator's batch job beside its always-on pipeline: a run every 5
 * profile minutes, 30 s of wall time at SPEED, with a catalog entry due as often.
 */
const BATCH_PIPELINE = "nightly";
const CATALOG = `pipelines:\n  ${BATCH_PIPELINE}:\n    every: 30s\n    max_run_duration: 15s\n`;
/**
 * The default pipeline, and All (the variable's default selection, allValue
 * `.+`); the batch panels, about runs, with the batch job instead.
 */
const selectionsOf = (panel: Panel) => (BATCH_PANEL_TITLES as readonly string[]).includes(panel.title) ? [BATCH_PIPELINE, ".+"] : ["etl", ".+"];
const queries: PanelQuery[] = panels.flatMap((panel) =>
  selectionsOf(panel).flatMap((selection) =>
    (panel.targets ?? []).map((target) => ({ panel, target, selection, expr: expandGrafanaVariables(target.expr, variables(selection)) }))
  )
);

const dirs: string[] = [];
let stack: NativeStack;
let secretsDir: string;
const readonlyAuth = () => {
  const password = readFileSync(join(secretsDir, "prometheus_readonly_password"), "utf8").trim();
  return { authorization: `Basic ${btoa(`readonly:${password}`)}` };
};

/** Runs one query as Grafana's Prometheus data source would: instant, or a range aligned to the step. */
async function run(q: PanelQuery): Promise<Series[]> {
  const now = Date.now() / 1000;
  const params = new URLSearchParams({ query: q.expr });
  let path = "/api/v1/query";
  if (q.target.instant) {
    params.set("time", now.toFixed(3));
  } else {
    // Grafana aligns start and end down to a multiple of the step.
    const step = INTERVAL_SECONDS;
    params.set("start", String(Math.floor((now - RANGE_SECONDS) / step) * step));
    params.set("end", String(Math.floor(now / step) * step));
    params.set("step", String(step));
    path = "/api/v1/query_range";
  }
  const res = await fetch(`${stack.urls.prometheus}${path}`, {
    method: "POST",
    headers: { ...readonlyAuth(), "content-type": "application/x-www-form-urlencoded" },
    body: params,
  });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Series[] } };
  if (res.status !== 200 || body.status !== "success") throw new Error(`${q.panel.title} ${q.target.refId}: HTTP ${res.status} ${body.error ?? ""}: ${q.expr}`);
  expect(body.data!.resultType, `${q.panel.title} ${q.target.refId}`).toBe(q.target.instant ? "vector" : "matrix");
  return body.data!.result;
}

const finiteValues = (s: Series) => (s.value ? [s.value] : s.values ?? []).map(([, v]) => Number(v)).filter(Number.isFinite);
/** Series with at least one finite value: what a panel can draw. */
const drawable = (result: Series[]) => result.filter((s) => finiteValues(s).length > 0);
const key = (q: PanelQuery) => `${q.panel.id}. ${q.panel.title} ${q.target.refId} [pipeline=~"${q.selection}"]`;

describe.skipIf(!available && !required)("every panel query against real Prometheus, exporter and simulator", () => {
  const results = new Map<string, Series[]>();
  const firstDataAfterS = new Map<string, number>();
  let startedAt = 0;
  let allDataAfterS = 0;

  beforeAll(async () => {
    const catalogDir = tempDir("etl-grafana-catalog-");
    dirs.push(catalogDir);
    const catalogFile = join(catalogDir, "pipelines.yml");
    writeFileSync(catalogFile, CATALOG);
    let runDir: string;
    ({ stack, secretsDir, runDir } = await startTestStack("etl-grafana-", {
      speed: SPEED,
      seed: 23,
      // The production rules: what a deployment evaluates, quiet in normal running.
      scrapeInterval: `${SCRAPE_SECONDS}s`,
      evaluationInterval: `${SCRAPE_SECONDS}s`,
      simulatorEnv: { ETL_BATCH_PIPELINES: `${BATCH_PIPELINE}:5m` },
      exporterEnv: { ETL_PIPELINES_FILE: catalogFile },
    }));
    dirs.push(runDir);
    startedAt = Date.now();
    // Poll until every query has something to draw; record when each first did.
    await waitFor(async () => {
      const rounds = await Promise.all(queries.map(async (q) => [q, await run(q)] as const));
      for (const [q, result] of rounds) {
        results.set(key(q), result);
        if (drawable(result).length > 0 && !firstDataAfterS.has(key(q))) firstDataAfterS.set(key(q), (Date.now() - startedAt) / 1000);
      }
      if (rounds.every(([, result]) => drawable(result).length > 0)) return true;
      await new Promise((r) => setTimeout(r, 1_000));
      return undefined;
    }, DATA_DEADLINE_MS, "every panel query to return data").catch(() => undefined);
    allDataAfterS = (Date.now() - startedAt) / 1000;
  }, DATA_DEADLINE_MS + 120_000);

  afterAll(async () => {
    await stack?.stop();
    cleanup(dirs);
    const slowest = [...firstDataAfterS.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(
      `grafana queries: ${queries.length} queries (${panels.length} panels × 2 selections each), ` +
        `all with data ${allDataAfterS.toFixed(1)} s after Prometheus was ready; slowest first data: ${JSON.stringify(Object.fromEntries(slowest))}`,
    );
  }, 60_000);

  it("offers the default pipeline and the batch job in the pipeline variable (label_values, as Grafana asks for it)", async () => {
    const params = new URLSearchParams({ "match[]": 'etl_health_status{job="etl-metrics"}' });
    const res = await fetch(`${stack.urls.prometheus}/api/v1/label/pipeline/values?${params}`, { headers: readonlyAuth() });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: string[] }).data).toEqual(["etl", BATCH_PIPELINE]);
  });

  it.each(queries.map((q) => [key(q), q] as const))("%s returns data", (name, q) => {
    const result = results.get(name);
    expect(result, `never answered: ${q.expr}`).toBeDefined();
    expect(drawable(result!).length, `no series with a finite value: ${q.expr}`).toBeGreaterThan(0);
    // Breakdowns by pipeline show the pipeline selected; All, the simulator's two.
    for (const s of result!) {
      if (!("pipeline" in s.metric) || q.expr.includes("ALERTS")) continue;
      if (q.selection === ".+") expect(["etl", BATCH_PIPELINE], name).toContain(s.metric.pipeline);
      else expect(s.metric.pipeline, name).toBe(q.selection);
    }
  });

  it("lists all six alert rules, quiet or pending, in the alert panels", () => {
    for (const q of queries.filter((x) => x.panel.title === "Alert Rules" || x.panel.title === "Alert History")) {
      const result = results.get(key(q))!;
      expect([...new Set(result.map((s) => s.metric.alertname))].sort(), key(q)).toEqual([...ALERT_NAMES].sort());
      for (const s of result) for (const v of finiteValues(s)) expect([0, 1, 2], key(q)).toContain(v);
    }
  });

  it("shows plausible values on the main panels", () => {
    const instant = (title: string, refId = "A") => {
      const result = results.get(key(queries.find((q) => q.panel.title === title && q.target.refId === refId && q.selection === "etl")!))!;
      return result.flatMap(finiteValues);
    };
    const last = (title: string, refId = "A") => {
      const result = results.get(key(queries.find((q) => q.panel.title === title && q.target.refId === refId && q.selection === "etl")!))!;
      return result.flatMap((s) => finiteValues(s).slice(-1));
    };
    expect(instant("Health Status").every((v) => v === 0 || v === 1)).toBe(true);
    expect(instant("Exporter Status", "A")).toEqual([1]);
    expect(instant("Exporter Status", "B")).toEqual([1]);
    expect(instant("Time Since Last Success")[0]).toBeLessThan(120);
    expect(last("Processing Rate")[0]).toBeGreaterThan(0);
    expect(last("Cumulative Counts", "A")[0]).toBeGreaterThan(0);
    expect(instant("Log Lines Skipped")).toEqual([0]);
    expect(instant("Checkpoint Age")[0]).toBeLessThan(15);
    expect(instant("Error Types Distribution").length).toBe(5);
    const batch = (title: string, refId = "A") =>
      results.get(key(queries.find((q) => q.panel.title === title && q.target.refId === refId && q.selection === BATCH_PIPELINE)!))!.flatMap(finiteValues);
    // On time in normal running: the deadline ahead, the data younger than it allows.
    expect(batch("Late Pipelines").every((v) => v < 0)).toBe(true);
    expect(batch("Records and Duration per Run").every((v) => v >= 800 && v <= 1200)).toBe(true);
    expect(batch("Freshness", "B").length).toBeGreaterThan(0);
  });
});
