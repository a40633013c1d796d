/**
 * `npm run bench:scale` (as root, with iproute2 and Debian's Prometheus):
 * scale figures of the multi-host topologies, on hosts made of network
 * namespaces (tools/netns/). Two cases, 3 hosts × 100 pipelines and
 * 1 host × 1,000 pipelines; in each, one Prometheus server (what each HA
 * replica is) scrapes every host, and a Prometheus agent per host
 * remote-writes to a center. After a warm-up it reads, through the real
 * APIs and /proc: series on the replica and at the center, each
 * Prometheus's resident memory, scrape duration and samples per target,
 * rule-group evaluation time; then extrapolates to 100 hosts (printed with
 * how). Scrapes and evaluations every 5 s to get many in a short run.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { alertRulesYaml } from "../lib/alerts/rules.ts";
import { parseSettings } from "../lib/config/settings.ts";
import { REMOTE_WRITE_SETTINGS, withRemoteWrite } from "../lib/stack/remote_write.ts";
import { ensureStackSecrets } from "../commands/secrets/store.ts";
import { haveServerBinaries, INSTALL_HINT } from "../commands/stack/native.ts";
import { ProcessGroup } from "../commands/stack/processes.ts";
import { AGENT_PORT, EXPORTER_PORT, hostTargets, SIMULATOR_PORT, startEtlHost, startPrometheus, writePrometheusDir } from "../tools/netns/etl_hosts.ts";
import { canMakeNamespaces, makeNetwork } from "../tools/netns/netns.ts";

const INTERVAL = "5s";
const WARM_UP_MS = Number(process.env.ETL_SCALE_WARM_UP_SECONDS ?? 75) * 1000;
const CASES = [
  { name: "3 hosts x 100 pipelines", hosts: 3, pipelines: 100 },
  { name: "1 host x 1,000 pipelines", hosts: 1, pipelines: 1000 },
];

if (!haveServerBinaries() || !canMakeNamespaces()) {
  process.stderr.write(`bench:scale needs root, iproute2 and ${INSTALL_HINT}\n`);
  process.exit(1);
}

const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
const rssMb = (pid: number | undefined) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
};

interface CaseResult {
  name: string;
  hosts: number;
  pipelines: number;
  replicaSeries: number;
  etlSeries: number;
  exporterSeries: number;
  centerSeries: number;
  replicaRssMb: number;
  centerRssMb: number;
  agentRssMb: number[];
  scrapeSecondsAvg: number;
  scrapeSecondsMax: number;
  samplesPerTarget: number;
  ruleEvalSecondsReplica: number;
  ruleEvalSecondsCenter: number;
}

async function runCase(c: (typeof CASES)[number]): Promise<CaseResult> {
  const runDir = mkdtempSync(join(tmpdir(), "etl-scale-"));
  const secretsDir = join(runDir, "secrets");
  await ensureStackSecrets(secretsDir, { cost: 4 });
  const auth = { authorization: `Basic ${btoa(`readonly:${readFileSync(join(secretsDir, "prometheus_readonly_password"), "utf8").trim()}`)}` };
  const group = new ProcessGroup(join(runDir, "logs"));
  const network = makeNetwork(Array.from({ length: c.hosts }, (_, i) => `etl-host-${i + 1}`));
  try {
    const pipelines = Array.from({ length: c.pipelines }, (_, i) => `p${String(i + 1).padStart(4, "0")}`);
    await Promise.all(network.hosts.map((h, i) => startEtlHost(group, network, h, { runDir, secretsDir, speed: 1, seed: 7 + i, pipelines })));
    const rules = alertRulesYaml();
    const base = { secretsDir, rules, scrapeInterval: INTERVAL, evaluationInterval: INTERVAL };
    const replica = await startPrometheus(group, "replica", writePrometheusDir(join(runDir, "replica"), {
      ...base,
      targets: { "etl-metrics.json": hostTargets(network.hosts, EXPORTER_PORT, "etl-metrics"), "etl-simulator.json": hostTargets(network.hosts, SIMULATOR_PORT, "etl-simulator") },
      edit: (config) => ({ ...config, alerting: undefined, scrape_configs: config.scrape_configs.filter((j: { job_name: string }) => j.job_name.startsWith("etl-")) }),
    }), { secretsDir, listen: `127.0.0.1:${await freePort()}` });
    const center = await startPrometheus(group, "center", writePrometheusDir(join(runDir, "center"), {
      ...base, targets: {}, edit: (config) => ({ ...config, alerting: undefined, scrape_configs: [] }),
    }), { secretsDir, listen: `${network.gateway}:${await freePort()}`, remoteWriteReceiver: true });
    const parsed = parseSettings(REMOTE_WRITE_SETTINGS, {
      ETL_REMOTE_WRITE_URL: `${center}/api/v1/write`, ETL_REMOTE_WRITE_USERNAME: "admin", ETL_REMOTE_WRITE_PASSWORD_FILE: "secrets/prometheus_admin_password",
    }, []);
    if (!parsed.ok) throw new Error(parsed.message);
    for (const host of network.hosts) {
      const dir = writePrometheusDir(join(runDir, `agent-${host.name}`), {
        ...base,
        targets: { "etl-metrics.json": hostTargets([host], EXPORTER_PORT, "etl-metrics"), "etl-simulator.json": hostTargets([host], SIMULATOR_PORT, "etl-simulator") },
        edit: (config) => {
          const { alerting: _a, rule_files: _r, ...rest } = config;
          return withRemoteWrite({ ...rest, scrape_configs: rest.scrape_configs.filter((j: { job_name: string }) => j.job_name.startsWith("etl-")) }, parsed.values);
        },
      });
      await startPrometheus(group, `agent-${host.name}`, dir, { secretsDir, listen: `${host.address}:${AGENT_PORT}`, mode: "agent", on: { network, host } });
    }
    process.stderr.write(`${c.name}: warming up for ${WARM_UP_MS / 1000} s\n`);
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    // Prometheus's own metrics, from its /metrics (these servers do not scrape themselves).
    const own = async (url: string, name: string, combine: (values: number[]) => number) => {
      const text = await (await fetch(`${url}/metrics`, { headers: auth })).text();
      const values = text.split("\n").filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).map((l) => Number(l.slice(l.lastIndexOf(" ") + 1)));
      return values.length === 0 ? Number.NaN : combine(values);
    };
    const sum = (v: number[]) => v.reduce((x, y) => x + y, 0);
    const max = (v: number[]) => Math.max(...v);
    const one = async (url: string, expr: string) => {
      const res = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { headers: auth })).json()) as { data: { result: { value: [number, string] }[] } };
      return Number(res.data.result[0]?.value[1] ?? Number.NaN);
    };
    return {
      name: c.name,
      hosts: c.hosts,
      pipelines: c.pipelines,
      replicaSeries: await own(replica, "prometheus_tsdb_head_series", sum),
      etlSeries: await one(replica, 'count({job=~"etl-.*"})'),
      exporterSeries: await one(replica, 'count({job="etl-metrics"})'),
      centerSeries: await own(center, "prometheus_tsdb_head_series", sum),
      replicaRssMb: rssMb(group.get("replica")?.child.pid),
      centerRssMb: rssMb(group.get("center")?.child.pid),
      agentRssMb: network.hosts.map((h) => rssMb(group.get(`agent-${h.name}`)?.child.pid)),
      scrapeSecondsAvg: await one(replica, 'avg(avg_over_time(scrape_duration_seconds{job="etl-metrics"}[1m]))'),
      scrapeSecondsMax: await one(replica, 'max(max_over_time(scrape_duration_seconds{job="etl-metrics"}[1m]))'),
      samplesPerTarget: await one(replica, 'avg(scrape_samples_scraped{job="etl-metrics"})'),
      ruleEvalSecondsReplica: await own(replica, "prometheus_rule_group_last_duration_seconds", max),
      ruleEvalSecondsCenter: await own(center, "prometheus_rule_group_last_duration_seconds", max),
    };
  } finally {
    await group.stopAll();
    network.destroy();
    rmSync(runDir, { recursive: true, force: true });
  }
}

const results: CaseResult[] = [];
for (const c of CASES) results.push(await runCase(c));

const round = (n: number, d = 3) => Number(n.toPrecision(d));
const rows: [string, (r: CaseResult) => string | number][] = [
  ["series on the replica (all)", (r) => r.replicaSeries],
  ["ETL series (jobs etl-metrics and etl-simulator)", (r) => r.etlSeries],
  ["of which the exporter's (job etl-metrics)", (r) => r.exporterSeries],
  ["series at the center (via agents)", (r) => r.centerSeries],
  ["replica RSS, MB", (r) => r.replicaRssMb],
  ["center RSS, MB", (r) => r.centerRssMb],
  ["agent RSS per host, MB", (r) => r.agentRssMb.join(", ")],
  ["exporter scrape, s (avg / max)", (r) => `${round(r.scrapeSecondsAvg)} / ${round(r.scrapeSecondsMax)}`],
  ["samples per exporter scrape", (r) => Math.round(r.samplesPerTarget)],
  ["rule group evaluation, last, s (replica / center)", (r) => `${round(r.ruleEvalSecondsReplica)} / ${round(r.ruleEvalSecondsCenter)}`],
];
const [a, b] = results as [CaseResult, CaseResult];
console.log(`\n| | ${results.map((r) => r.name).join(" | ")} |\n|---|${results.map(() => "---").join("|")}|`);
for (const [label, f] of rows) console.log(`| ${label} | ${results.map(f).join(" | ")} |`);

// Linear in ETL series: the per-series slope from the two cases, the rest
// (Prometheus's own series and memory) as the intercept.
const perSeries = (f: (r: CaseResult) => number) => (f(b) - f(a)) / (b.etlSeries - a.etlSeries);
const at = (f: (r: CaseResult) => number, series: number) => f(a) + perSeries(f) * (series - a.etlSeries);
const etlPerHost = a.etlSeries / a.hosts;
const hundred = etlPerHost * 100;
console.log(`\nFor 100 hosts x ${a.pipelines} pipelines: ${Math.round(hundred)} ETL series (${Math.round(etlPerHost)} per host, measured);`);
console.log(`  replica RSS ~${Math.round(at((r) => r.replicaRssMb, hundred))} MB and center RSS ~${Math.round(at((r) => r.centerRssMb, hundred))} MB`);
console.log(`  (linear in series through the two cases: ${round(perSeries((r) => r.replicaRssMb) * 1024, 2)} kB per series on the replica),`);
console.log(`  rule evaluation ~${round(at((r) => r.ruleEvalSecondsReplica, hundred))} s per group (same fit), each agent as measured per host,`);
console.log(`  100 exporter scrapes of ~${round(a.scrapeSecondsAvg)} s each per interval (scrape time depends on pipelines per host, not on hosts).`);
console.log(`Figures after a ${WARM_UP_MS / 1000} s warm-up at ${INTERVAL} intervals; memory grows with retention and churn beyond that.`);
