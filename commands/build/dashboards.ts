// Writes the Grafana dashboard generated from lib/dashboard/dashboard.ts, and the
// panel table of grafana/README.md generated from the same source. Tests
// fail when either committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { buildDashboard, DASHBOARD_PATH, dashboardJson } from "../../lib/dashboard/dashboard.ts";
import { GRAFANA_README_PATH, withPanelTable } from "../../lib/dashboard/docs.ts";
import { settingsOrExit } from "../../workers/start.ts";

// No settings: --help explains, anything else is refused before a file is touched.
settingsOrExit(
  {},
  `Usage: npm run build:dashboards\n  Writes ${DASHBOARD_PATH} from lib/dashboard/dashboard.ts, and the panel table of ${GRAFANA_README_PATH}. No flags but --help.`,
);

const write = (path: string, text: string) => {
  writeFileSync(path, text);
  console.log(`wrote ${path} (${text.length} bytes)`);
};

const dashboard = buildDashboard();
write(DASHBOARD_PATH, dashboardJson(dashboard));
write(GRAFANA_README_PATH, withPanelTable(readFileSync(GRAFANA_README_PATH, "utf8"), dashboard));
