import Ajv from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { generateGrafanaSchemas, type JsonSchema, PANEL_SCHEMAS, propertySchema, SCHEMA_NAMES, type SchemaName } from "./schema.ts";

describe("schemas generated from @grafana/schema", () => {
  let schemas: Record<SchemaName, JsonSchema>;
  const valid = (schema: JsonSchema, value: unknown) => new Ajv({ strict: false }).compile(schema)(value);

  beforeAll(() => {
    schemas = generateGrafanaSchemas();
  }, 60_000);

  it("exist for every name, and every panel type maps to generated names", () => {
    expect(Object.keys(schemas).sort()).toEqual([...SCHEMA_NAMES].sort());
    for (const { options, fieldConfig } of Object.values(PANEL_SCHEMAS)) {
      expect(SCHEMA_NAMES).toContain(options);
      if (fieldConfig) expect(SCHEMA_NAMES).toContain(fieldConfig);
    }
    // The dashboard model is Grafana's, not a stub: it knows panels, rows and variables.
    expect(Object.keys(schemas.DashboardModel.definitions!)).toEqual(expect.arrayContaining(["Panel", "RowPanel", "VariableModel", "FieldConfig"]));
  });

  it("accept a minimal dashboard and refuse unknown or mistyped fields", () => {
    expect(valid(schemas.DashboardModel, { schemaVersion: 42, uid: "x", panels: [] })).toBe(true);
    expect(valid(schemas.DashboardModel, { schemaVersion: 42, colour: "red" })).toBe(false);
    expect(valid(schemas.DashboardModel, { schemaVersion: "42" })).toBe(false);
    expect(valid(schemas.DashboardModel, { schemaVersion: 42, panels: [{ type: "stat", gridPos: { x: 0, y: 0, w: 1, h: "1" } }] })).toBe(false);
  });

  it("give the schema of one property, for checking an override's value", () => {
    const lineStyle = propertySchema(schemas.TimeSeriesFieldConfig, "lineStyle")!;
    expect(valid(lineStyle, { fill: "dash", dash: [10, 10] })).toBe(true);
    expect(valid(lineStyle, { fill: "wavy" })).toBe(false);
    expect(propertySchema(schemas.TimeSeriesFieldConfig, "noSuchThing")).toBeUndefined();
    const unit = propertySchema({ $ref: "#/definitions/FieldConfig", definitions: schemas.DashboardModel.definitions }, "unit")!;
    expect(valid(unit, "s")).toBe(true);
    expect(valid(unit, 1)).toBe(false);
  });
});
