/**
 * JSON Schemas generated from `@grafana/schema`'s TypeScript types (the
 * dashboard model and the options of each panel type this dashboard uses),
 * with `ts-json-schema-generator`, at the moment they are needed: no
 * generated schema is committed, so there is none to go stale, and a new
 * `@grafana/schema` version is checked against at once. Takes about 2 s.
 *
 * `additionalProperties: false` everywhere: a field Grafana does not know
 * is an error, which is what catches an SDK emitting something Grafana has
 * dropped.
 *
 * @example
 * ```ts
 * import Ajv from "ajv";
 * import { generateGrafanaSchemas } from "./schema.ts";
 * const schemas = generateGrafanaSchemas();
 * new Ajv({ strict: false }).compile(schemas.DashboardModel)(dashboard); // true
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { createGenerator } from "ts-json-schema-generator";

/**
 * The types a schema is generated for; the names exported by
 * `tools/grafana/schema_types.ts`.
 *
 * @example
 * ```ts
 * SCHEMA_NAMES.includes("TimeSeriesOptions"); // true
 * ```
 */
export const SCHEMA_NAMES = [
  "DashboardModel",
  "TimeSeriesOptions",
  "TimeSeriesFieldConfig",
  "StatOptions",
  "TableOptions",
  "TableFieldConfig",
  "PieChartOptions",
  "PieChartFieldConfig",
  "StateTimelineOptions",
  "StateTimelineFieldConfig",
] as const;

/**
 * One of {@linkcode SCHEMA_NAMES}.
 *
 * @example
 * ```ts
 * const name: SchemaName = "DashboardModel";
 * ```
 */
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/**
 * A JSON Schema (draft-07) as the generator writes it.
 *
 * @example
 * ```ts
 * const s: JsonSchema = { $ref: "#/definitions/Dashboard", definitions: {} };
 * ```
 */
export type JsonSchema = Record<string, unknown> & { definitions?: Record<string, Record<string, unknown>> };

/**
 * For each panel type: the schema of its `options` and of its
 * `fieldConfig.defaults.custom` (the stat panel has no custom field config).
 *
 * @example
 * ```ts
 * PANEL_SCHEMAS.timeseries.options; // "TimeSeriesOptions"
 * ```
 */
export const PANEL_SCHEMAS: Readonly<Record<string, { options: SchemaName; fieldConfig?: SchemaName }>> = {
  timeseries: { options: "TimeSeriesOptions", fieldConfig: "TimeSeriesFieldConfig" },
  stat: { options: "StatOptions" },
  table: { options: "TableOptions", fieldConfig: "TableFieldConfig" },
  piechart: { options: "PieChartOptions", fieldConfig: "PieChartFieldConfig" },
  "state-timeline": { options: "StateTimelineOptions", fieldConfig: "StateTimelineFieldConfig" },
};

/**
 * Generates every schema of {@linkcode SCHEMA_NAMES} in one TypeScript
 * program.
 *
 * @example
 * ```ts
 * const { DashboardModel } = generateGrafanaSchemas();
 * ```
 */
export function generateGrafanaSchemas(): Record<SchemaName, JsonSchema> {
  const generator = createGenerator({
    path: fileURLToPath(new URL("schema_types.ts", import.meta.url)),
    // The repository's compiler options (bundler resolution) resolve the
    // package's exports map; only schema_types.ts and what it imports load.
    tsconfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)),
    skipTypeCheck: true,
    expose: "export",
    topRef: true,
    additionalProperties: false,
  });
  const out = {} as Record<SchemaName, JsonSchema>;
  for (const name of SCHEMA_NAMES) out[name] = generator.createSchema(name) as JsonSchema;
  return out;
}

/**
 * The schema of one property of an object schema, with the root's
 * definitions, so a single override value can be validated against what
 * the full field config says about that property. Undefined when the
 * object has no such property.
 *
 * @example
 * ```ts
 * propertySchema(schemas.TimeSeriesFieldConfig, "lineStyle"); // { $ref: "#/definitions/LineStyle", definitions: … }
 * ```
 */
export function propertySchema(schema: JsonSchema, property: string): JsonSchema | undefined {
  const definitions = schema.definitions ?? {};
  let node: Record<string, unknown> | undefined = schema;
  // Follow $ref chains (Name → Options → the object) to the object schema.
  for (let hops = 0; node !== undefined && typeof node.$ref === "string" && hops < 10; hops++) {
    node = definitions[(node.$ref as string).replace("#/definitions/", "")];
  }
  const properties = node?.properties as Record<string, Record<string, unknown>> | undefined;
  const sub = properties?.[property];
  return sub === undefined ? undefined : { ...sub, definitions };
}
