/**
 * The JSON Schema of the log contract, generated from the zod schemas (the
 * single source), for tools in other languages. Published as
 * `lib/etl/etl-log-event.v1.schema.json` by `npm run build:schema`; a test fails
 * when the published file is stale.
 *
 * @example
 * ```ts
 * import { logContractJsonSchema } from "./events_json_schema.ts";
 * const schema = logContractJsonSchema();
 * schema.$id; // "etl-log-event.v1.schema.json"
 * ```
 * @module
 */
import * as z from "zod";
import { EtlEventSchema, LOG_CONTRACT_VERSION } from "./events.ts";

/** Where the generated schema is published, relative to the repository root. */
export const PUBLISHED_SCHEMA_PATH = `lib/etl/etl-log-event.v${LOG_CONTRACT_VERSION}.schema.json`;

/** The schema of one log line; unknown fields are allowed (readers ignore them). */
export function logContractJsonSchema(): Record<string, unknown> {
  // "input": what a writer may write, so optional fields and extra keys are allowed.
  const schema = z.toJSONSchema(EtlEventSchema, { target: "draft-2020-12", io: "input" });
  return {
    $schema: schema.$schema,
    $id: `etl-log-event.v${LOG_CONTRACT_VERSION}.schema.json`,
    title: `ETL log event, contract version ${LOG_CONTRACT_VERSION}`,
    description: "One JSON object per line, UTF-8, append-only. Generated from lib/etl/events.ts; do not edit.",
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}

/** The published file's exact text. */
export function logContractJsonSchemaText(): string {
  return JSON.stringify(logContractJsonSchema(), null, 2) + "\n";
}
