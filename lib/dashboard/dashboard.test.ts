// The dashboard without a Grafana server: the committed JSON is current,
// fits the schema generated from @grafana/schema, passes the linter's rules,
// and every query parses (Lezer grammar) and type-checks (promtool).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_NAMES } from "../alerts/rules.ts";
import {
  alertStateExpr,
  buildDashboard,
  DASHBOARD_PATH,
  DASHBOARD_UID,
  dashboardJson,
  PANEL_IDS,
  PROMETHEUS_DATASOURCE_UID,
  ROW_IDS,
} from "./dashboard.ts";
import { documentedPanels, GRAFANA_README_PATH, withPanelTable } from "./docs.ts";
import { type LintDashboard, lintDashboard } from "../../tools/grafana/lint.ts";
import { LINT_OPTIONS } from "../../tools/grafana/lint_config.ts";
import { expandGrafanaVariables, pipelineSelection } from "./promql.ts";
import { promqlSyntaxErrors } from "../../tools/grafana/promql_ast.ts";
import { generateGrafanaSchemas, type JsonSchema, PANEL_SCHEMAS, propertySchema, type SchemaName } from "../../tools/grafana/schema.ts";

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
  editorMode: string;
  range: boolean;
  instant: boolean;
  format?: string;
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  options?: Record<string, unknown>;
  transformations?: Array<{ id: string; options: Record<string, unknown> }>;
  fieldConfig: {
    defaults: Record<string, unknown> & { unit?: string; custom?: Record<string, unknown> };
    overrides: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: unknown }> }>;
  };
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  label?: string;
  query?: string;
  current?: { text: unknown; value: unknown };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface DashboardJson {
  uid: string;
  title: string;
  editable: boolean;
  time: { from: string; to: string };
  templating: { list: Variable[] };
  panels: Panel[];
}

const committed = () => JSON.parse(readFileSync(DASHBOARD_PATH, "utf8")) as DashboardJson;
const panelsOf = (d: DashboardJson) => d.panels.filter((p) => p.type !== "row");
const INSTANT_TYPES = new Set(["stat", "table", "piechart"]);
const REFERENCE_TITLES = [
  "Processing Rate",
  "Health Status",
  "Time Since Last Success",
  "Total Failures",
  "Average Processing Time",
  "Cumulative Counts",
  "Error Types Distribution",
  "Processing Activity (5-minute increments)",
];

describe("the committed dashboard", () => {
  it("is current (run `npm run build:dashboards` after changing grafana/)", () => {
    expect(readFileSync(DASHBOARD_PATH, "utf8")).toBe(dashboardJson());
  });

  it("is built the same way every time", () => {
    expect(dashboardJson()).toBe(dashboardJson());
  });

  it("is documented: the panel table of grafana/README.md is current", () => {
    const readme = readFileSync(GRAFANA_README_PATH, "utf8");
    expect(readme).toBe(withPanelTable(readme, buildDashboard()));
  });
});

describe("what the dashboard is", () => {
  const d = committed();
  const panels = panelsOf(d);

  it("has its uid, a title, and cannot be edited in Grafana (it is provisioned)", () => {
    expect(d.uid).toBe(DASHBOARD_UID);
    expect(d.uid).toBe("etl-monitoring");
    expect(d.title).toBe("ETL Monitoring");
    expect(d.editable).toBe(false);
  });

  it("has the reference stack's panels, by title", () => {
    const titles = panels.map((p) => p.title);
    for (const title of REFERENCE_TITLES) expect(titles).toContain(title);
  });

  it("keeps every panel's and row's id (never renumber: URLs and links use them)", () => {
    expect(Object.fromEntries(panels.map((p) => [p.title, p.id]))).toEqual(PANEL_IDS);
    expect(Object.fromEntries(d.panels.filter((p) => p.type === "row").map((p) => [p.title, p.id]))).toEqual(ROW_IDS);
    // Expanded rows hold no panels: Grafana drops panels nested in an expanded row.
    for (const row of d.panels.filter((p) => p.type === "row")) expect(row.panels).toEqual([]);
  });

  it("gives every panel a unit and a description that opens with the question it answers", () => {
    for (const p of panels) {
      expect(p.fieldConfig.defaults.unit, p.title).toMatch(/^\S+$/);
      expect(p.description, p.title).toMatch(/^[A-Z][^?]{5,}\? \S/);
    }
  });

  it("queries Prometheus through the data source variable, with fixed refIds and the right query type", () => {
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      const refIds = p.targets!.map((t) => t.refId);
      expect(refIds, p.title).toEqual(["A", "B", "C", "D", "E", "F", "G"].slice(0, refIds.length));
      for (const t of p.targets!) {
        const at = `${p.title} ${t.refId}`;
        expect(t.datasource, at).toEqual({ type: "prometheus", uid: "${datasource}" });
        expect(t.editorMode, at).toBe("code");
        expect(t.expr.trim(), at).not.toBe("");
        expect(t.legendFormat, at).toBeTruthy();
        expect([t.instant, t.range], at).toEqual(INSTANT_TYPES.has(p.type) ? [true, false] : [false, true]);
        if (p.type === "table") expect(t.format, at).toBe("table");
      }
    }
  });

  it("refers only to refIds and fields that exist", () => {
    for (const p of panels) {
      const refIds = new Set(p.targets!.map((t) => t.refId));
      const renamed = new Set(
        (p.transformations ?? []).flatMap((t) => Object.values((t.options.renameByName ?? {}) as Record<string, string>)),
      );
      for (const o of p.fieldConfig.overrides) {
        if (o.matcher.id === "byFrameRefID") expect(refIds, p.title).toContain(o.matcher.options);
        else if (o.matcher.id === "byName") expect(renamed, p.title).toContain(o.matcher.options);
        else throw new Error(`${p.title}: unexpected matcher ${o.matcher.id}`);
      }
    }
  });

  it("lays panels out on the 24-column grid without overlap", () => {
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it("has a data source variable defaulting to the provisioned data source, and a pipeline variable on All", () => {
    const [ds, pipeline] = d.templating.list;
    expect(ds).toMatchObject({ name: "datasource", type: "datasource", label: "Data source", query: "prometheus" });
    expect(ds!.current).toMatchObject({ value: PROMETHEUS_DATASOURCE_UID });
    const provisioned = parse(readFileSync("grafana/provisioning/datasources/prometheus.yml", "utf8")) as { datasources: { uid: string }[] };
    expect(provisioned.datasources.map((x) => x.uid)).toContain(PROMETHEUS_DATASOURCE_UID);
    expect(pipeline).toMatchObject({ name: "pipeline", type: "query", multi: true, includeAll: true, allValue: ".+" });
    expect(pipeline!.current).toMatchObject({ value: ["$__all"] });
  });

  it("lists every alert rule in the alert panels, so they are never blank", () => {
    expect(alertStateExpr().match(/"alertname", "(\w+)"/g)!.map((m) => m.split('"')[3])).toEqual([...ALERT_NAMES]);
    const alertPanels = panels.filter((p) => p.targets!.some((t) => t.expr.includes("ALERTS")));
    expect(alertPanels.map((p) => p.title).sort()).toEqual(["Alert History", "Alert Rules", "Alerts Firing"]);
    for (const p of alertPanels) expect(p.targets![0]!.expr, p.title).toMatch(/ or (on \(alertname\) \(label_replace\(vector\(0\)|vector\(0\))/);
  });
});

describe("Grafana's dashboard linter rules", () => {
  it("find nothing but the reasoned exceptions", () => {
    expect(lintDashboard(committed() as unknown as LintDashboard, LINT_OPTIONS)).toEqual([]);
  });

  it("give every exception a reason the panel's description repeats to the reader", () => {
    const panels = panelsOf(committed());
    for (const e of LINT_OPTIONS.exceptions) {
      const p = panels.find((x) => x.title === e.panel)!;
      expect(p.description, e.panel).toMatch(/on purpose|deliberately/);
    }
  });
});

/** Values Grafana could substitute: each pipeline selection form, and typical time variables. */
const SUBSTITUTIONS = ["etl", pipelineSelection(["etl", "orders"]), ".+"].map((pipeline) => ({
  pipeline,
  __rate_interval: "1m",
  __interval: "15s",
  __range: "1h",
  datasource: PROMETHEUS_DATASOURCE_UID,
}));

const allTargets = () => panelsOf(committed()).flatMap((p) => p.targets!.map((t) => ({ panel: p, target: t })));

describe("every query", () => {
  it.each(SUBSTITUTIONS.map((s) => [s.pipeline, s] as const))("parses with pipeline %s (Prometheus's Lezer grammar)", (_, values) => {
    for (const { panel, target } of allTargets()) {
      const expr = expandGrafanaVariables(target.expr, values);
      expect(promqlSyntaxErrors(expr), `${panel.title} ${target.refId}: ${expr}`).toEqual([]);
    }
  });

  const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it.skipIf(!hasPromtool && process.env.CI !== "true")(
    "type-checks with Prometheus's own parser (promtool check rules; apt-get install prometheus)",
    () => {
      const rules = SUBSTITUTIONS.flatMap((values, i) =>
        allTargets().map(({ panel, target }) => ({ record: `dashboard:panel${panel.id}_${target.refId}_${i}`, expr: expandGrafanaVariables(target.expr, values) }))
      );
      const dir = mkdtempSync(join(tmpdir(), "etl-dashboard-"));
      dirs.push(dir);
      writeFileSync(join(dir, "queries.yml"), JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const run = spawnSync("promtool", ["check", "rules", join(dir, "queries.yml")], { encoding: "utf8" });
      expect(run.stdout + run.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(run.status).toBe(0);
    },
  );
});

describe("the schema generated from @grafana/schema", () => {
  let schemas: Record<SchemaName, JsonSchema>;
  const ajv = () => new Ajv({ strict: false, allErrors: true });
  const errorsOf = (schema: JsonSchema, value: unknown) => {
    const validate = ajv().compile(schema);
    return validate(value) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };

  beforeAll(() => {
    schemas = generateGrafanaSchemas();
  }, 60_000);

  it("accepts the dashboard", () => {
    expect(errorsOf(schemas.DashboardModel, committed())).toEqual([]);
  });

  it("accepts each panel's options and custom field config, by panel type", () => {
    for (const p of panelsOf(committed())) {
      const names = PANEL_SCHEMAS[p.type];
      expect(names, `no schema for panel type ${p.type}`).toBeDefined();
      expect(errorsOf(schemas[names!.options], p.options), `${p.title} options`).toEqual([]);
      if (names!.fieldConfig) expect(errorsOf(schemas[names!.fieldConfig], p.fieldConfig.defaults.custom ?? {}), `${p.title} custom`).toEqual([]);
      else expect(p.fieldConfig.defaults.custom ?? {}, `${p.title} custom`).toEqual({});
    }
  });

  it("accepts every override's value for the property it sets", () => {
    const fieldConfig: JsonSchema = { $ref: "#/definitions/FieldConfig", definitions: schemas.DashboardModel.definitions };
    for (const p of panelsOf(committed())) {
      for (const o of p.fieldConfig.overrides) {
        for (const { id, value } of o.properties) {
          const custom = id.startsWith("custom.");
          const owner = custom ? schemas[PANEL_SCHEMAS[p.type]!.fieldConfig!] : fieldConfig;
          const sub = propertySchema(owner, custom ? id.slice("custom.".length) : id);
          expect(sub, `${p.title}: ${id} is not a field config property`).toBeDefined();
          expect(errorsOf(sub!, value), `${p.title}: ${id}`).toEqual([]);
        }
      }
    }
  });

  it("rejects what Grafana would not know, so the checks above can fail", () => {
    const d = committed() as unknown as { panels: Record<string, unknown>[]; templating: { list: Record<string, unknown>[] } };
    d.panels[1]!.gridPos = { x: 0, y: 0, w: "wide", h: 1 };
    d.templating.list[0]!.auto = true;
    expect(errorsOf(schemas.DashboardModel, d).length).toBeGreaterThanOrEqual(2);
    expect(errorsOf(schemas.StatOptions, { ...panelsOf(committed())[0]!.options, footer: {} })).not.toEqual([]);
    expect(errorsOf(propertySchema(schemas.TimeSeriesFieldConfig, "lineStyle")!, { fill: "wavy" })).not.toEqual([]);
  });
});

describe("the documented panels", () => {
  it("are the dashboard's panels", () => {
    expect(documentedPanels(buildDashboard()).map((p) => p.id)).toEqual(panelsOf(committed()).map((p) => p.id));
  });
});
