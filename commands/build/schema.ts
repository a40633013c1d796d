// Writes the log contract's JSON Schema, generated from the zod schemas.
import { writeFileSync } from "node:fs";
import { logContractJsonSchemaText, PUBLISHED_SCHEMA_PATH } from "../../lib/etl/events_json_schema.ts";

writeFileSync(PUBLISHED_SCHEMA_PATH, logContractJsonSchemaText());
console.log(`wrote ${PUBLISHED_SCHEMA_PATH}`);
