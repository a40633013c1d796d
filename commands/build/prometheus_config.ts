// Writes a copy of prometheus/prometheus.yml with the optional remote_write
// block of the ETL_REMOTE_WRITE_* settings (lib/stack/remote_write.ts), for a
// deployment to mount instead of the repository's file; with no URL set it
// writes the file unchanged (remote write off). See docs/remote-write.md.
//
//   npm run build:prometheus-config -- --out DIR [--remote-write-url URL …]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parse } from "yaml";
import { toYaml } from "../../lib/alerts/rules.ts";
import { parseSettings, type SettingsSpec } from "../../lib/config/settings.ts";
import { REMOTE_WRITE_SETTINGS, remoteWriteProblems, withRemoteWrite } from "../../lib/stack/remote_write.ts";
import * as z from "zod";

const SETTINGS = {
  out: { flag: "out", help: "Folder to write prometheus.yml to (beside its rules/, targets/ and secrets/).", defaultText: "required", schema: z.string({ error: "is required: the folder to write prometheus.yml to" }).min(1) },
  source: { flag: "source", help: "The configuration to start from.", defaultText: "prometheus/prometheus.yml", schema: z.string().min(1).default("prometheus/prometheus.yml") },
  ...REMOTE_WRITE_SETTINGS,
} satisfies SettingsSpec;

const parsed = parseSettings(SETTINGS, process.env, process.argv.slice(2), "Usage: npm run build:prometheus-config -- --out DIR [settings]");
if (!parsed.ok) {
  (parsed.help ? process.stdout : process.stderr).write(`${parsed.message}\n`);
  process.exit(parsed.help ? 0 : 2);
}
const { out, source, ...remote } = parsed.values;
const problems = remoteWriteProblems(remote);
if (problems.length > 0) {
  process.stderr.write(`Bad settings:\n  ${problems.join("\n  ")}\n`);
  process.exit(2);
}
const config = withRemoteWrite(parse(readFileSync(source, "utf8")) as Record<string, unknown>, remote);
const header = `Made from ${source} by commands/build/prometheus_config.ts; remote write ${remote.url === undefined ? "off" : `to ${new URL(remote.url).host}`}.`;
mkdirSync(out, { recursive: true });
const path = join(out, "prometheus.yml");
const text = toYaml(config, header);
writeFileSync(path, text);
console.log(`wrote ${path} (${text.length} bytes)`);
