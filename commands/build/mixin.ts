// Writes the monitoring mixin of mixin/ (alerts, recording rules, dashboard,
// config), generated from lib/alerts/, lib/dashboard/ and lib/mixin/, and
// prints what it wrote. A test fails when the committed files are stale.
//
//   mixin.ts                                   the committed files
//   mixin.ts --runbook-url URL --grafana-url URL --out DIR
//                                              a copy with your runbook and Grafana addresses
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { MIXIN_DIR, mixinFiles } from "../../lib/mixin/mixin.ts";

const { values } = parseArgs({
  options: { "runbook-url": { type: "string" }, "grafana-url": { type: "string" }, out: { type: "string" } },
  strict: true,
});
const custom = values["runbook-url"] !== undefined || values["grafana-url"] !== undefined;
if (custom && values.out === undefined) {
  console.error("--runbook-url and --grafana-url need --out DIR: the committed mixin keeps the default addresses");
  process.exit(2);
}
const out = values.out ?? MIXIN_DIR;
const files = mixinFiles({ runbookUrl: values["runbook-url"], grafanaUrl: values["grafana-url"] });
for (const [name, text] of Object.entries(files)) {
  const path = join(out, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${path} (${text.length} bytes)`);
}
