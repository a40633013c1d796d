// Writes the log contract's JSON Schema, generated from the zod schemas.
import { writeFileSync } from "node:fs";
import { logContractJsonSchemaText, PUBLISHED_SCHEMA_PATH } from "../../lib/etl/events_json_schema.ts";
import { settingsOrExit } from "../../workers/start.ts";

// No settings: --help explains, anything else is refused before the file is touched.
settingsOrExit({}, `Usage: npm run build:schema\n  Writes ${PUBLISHED_SCHEMA_PATH} from the zod schemas of lib/etl/events.ts. No flags but --help.`);

writeFileSync(PUBLISHED_SCHEMA_PATH, logContractJsonSchemaText());
console.log(`wrote ${PUBLISHED_SCHEMA_PATH}`);
