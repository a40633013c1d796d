// Writes the Compose stack's TLS mode (deploy/compose/docker-compose.tls.yml and
// the HTTPS renderings of prometheus.yml, alertmanager.yml and Grafana's data
// source), all from lib/stack/compose_tls.ts and the plain files. A test fails
// when the committed files are stale. `npm run build:compose-tls`.
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { composeTlsFiles, PLAIN_SOURCES } from "../../lib/stack/compose_tls.ts";
import { settingsOrExit } from "../../workers/start.ts";

settingsOrExit({}, "Usage: npm run build:compose-tls\n  Writes the files of the Compose stack's TLS mode (lib/stack/compose_tls.ts).");
const files = composeTlsFiles({
  prometheusYml: readFileSync(PLAIN_SOURCES.prometheusYml, "utf8"),
  grafanaDatasources: readFileSync(PLAIN_SOURCES.grafanaDatasources, "utf8"),
});
for (const [path, text] of Object.entries(files)) {
  writeFileSync(path, text);
  process.stdout.write(`wrote ${path} (${text.length} bytes)\n`);
}
