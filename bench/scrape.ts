/**
 * The scrape benchmark (issue "scrapes as cheap as a Go exporter's"), side by
 * side in one run, on 127.0.0.1 only:
 *
 * 1. `/metrics` of the exporter with one pipeline against Debian's
 *    `prometheus-pushgateway` holding the same ETL series (pushed from the
 *    exporter's own output): `wrk -t1 -c50 -d10s --latency`, requests/s,
 *    p50 and p99; the exporter's RSS before and after that load;
 * 2. the same at 1,000 pipelines: the time of one scrape (median and
 *    range of sequential `curl`s) within a second, as the first of a second,
 *    and as the first after a line was read; the body size;
 * 3. a flood of wrong passwords (a different one each request, 64
 *    connections) against the simulator's `/metrics`: the p95 of a scraper
 *    with the right password, without and with the flood.
 *
 * Run by `npm run bench` (bench/main.ts), or alone with
 * `node commands/build/bundle.mjs && ./node_modules/.bin/deno run -A bench/scrape.ts`.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { basicAuthorization } from "../lib/auth/basic_authorization.ts";
import { freePort } from "../tools/free_port.ts";
import { EXPORTER_V8_FLAGS } from "../lib/config/v8_flags.ts";

const ROOT = process.cwd();
const WORK = resolve(ROOT, ".bench/scrape");
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 10);
// Under Deno (running this file alone) the servers still run on Node, as in production.
const NODE = "Deno" in globalThis ? "node" : process.execPath;
const PASSWORD = "bench-right-password";

type Note = (name: string, value: string) => void;

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });


function runOk(command: string, args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

function has(command: string, args: string[]): boolean {
  return spawnSync(command, args).error === undefined;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
}

async function waitFor(url: string, child: ChildProcess, headers: Record<string, string> = {}): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${child.spawnargs.join(" ")} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, { headers })).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(command, args, { cwd: ROOT, stdio: "ignore", env: { ...process.env, ETL_LOG_LEVEL: "warning", ...env } });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** A simulator log of `events` events over `pipelines` pipelines, in `dir`. */
function generate(dir: string, pipelines: number, events: number): void {
  rmSync(dir, { recursive: true, force: true });
  const names = pipelines === 1 ? "etl" : Array.from({ length: pipelines }, (_, i) => `p${String(i).padStart(4, "0")}`).join(",");
  runOk(NODE, ["dist/simulator.mjs", "--data-dir", dir, "--events", String(events), "--seed", "7", "--pipelines", names], { ETL_LOG_LEVEL: "warning" });
}

async function startExporter(dir: string, nodeFlags: readonly string[] = EXPORTER_V8_FLAGS): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = start(NODE, [...nodeFlags, "dist/exporter.mjs", "--data-dir", dir], { EXPORTER_PORT: String(port) });
  await waitFor(`http://127.0.0.1:${port}/-/ready`, child);
  return { child, url: `http://127.0.0.1:${port}/metrics` };
}

/** The ETL families of a scrape (the exporter's own included), without the process's. */
function etlFamiliesText(body: string): string {
  const families = body.split(/\n(?=# HELP )/);
  return families.filter((f) => f.startsWith("# HELP etl_")).map((f) => f.trimEnd()).join("\n") + "\n";
}

const etlSeries = (body: string) => body.split("\n").filter((l) => l.startsWith("etl_")).length;

interface WrkResult {
  rps: number;
  p50: string;
  p99: string;
  p95Ms: number;
  non2xx: number;
}

function parseMs(text: string): number {
  const [, n, unit] = /([\d.]+)(us|ms|s)/.exec(text) ?? [];
  return Number(n) * (unit === "us" ? 1e-3 : unit === "s" ? 1e3 : 1);
}

function wrk(args: string[]): WrkResult {
  const out = runOk("wrk", args);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: /\s50%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "?",
    p99: /\s99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "?",
    p95Ms: Number(/^P95_US (\d+)$/m.exec(out)?.[1]) / 1000,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

interface Timed {
  /** Median, fastest and slowest, seconds. */
  seconds: number;
  min: number;
  max: number;
  bytes: number;
}

function summary(times: number[], bytes: number): Timed {
  const sorted = [...times].sort((a, b) => a - b);
  return { seconds: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)!, bytes };
}

/** One scrape by curl: seconds and bytes, the body written to `out` when given. */
function curlOnce(url: string, out = "/dev/null"): { seconds: number; bytes: number } {
  const [t, size] = runOk("curl", ["-s", "-o", out, "-w", "%{time_total} %{size_download}", url]).split(" ");
  return { seconds: Number(t), bytes: Number(size) };
}

const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));

/**
 * `n` sequential scrapes by curl; `apart` starts each in a second of its own, so the
 * exporter renders each afresh.
 */
async function scrapeTime(url: string, n: number, apart = false, beside?: number[]): Promise<Timed> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    if (apart) await nextSecond();
    const one = curlOnce(url);
    times.push(one.seconds);
    bytes = one.bytes;
    if (beside !== undefined) beside.push(curlOnce(besideUrl!).seconds);
  }
  return summary(times, bytes);
}

/** The Pushgateway's /metrics, scraped right after each of ours when a list is given for it. */
let besideUrl: string | undefined;

const parsedLines = (body: string) => Number(/^etl_exporter_log_lines_total\{result="parsed"\} (\d+)$/m.exec(body)?.[1]);

/**
 * `n` scrapes, each the first after a line was read: at the start of a second a
 * `file_processed` line is appended to a pipeline's log, and one scrape is timed 300 ms into
 * the next second (the exporter polls every 250 ms); its body must count that line.
 */
async function scrapeAfterLine(url: string, dir: string, n: number, beside: number[]): Promise<Timed> {
  const bodyFile = join(WORK, "after-line.txt");
  curlOnce(url, bodyFile);
  let expected = parsedLines(readFileSync(bodyFile, "utf8"));
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    await nextSecond();
    const pipeline = `p${String((i * 137) % 1000).padStart(4, "0")}`;
    const line = { ts: new Date().toISOString(), level: "info", event: "file_processed", pipeline, file: "bench.csv", records: 5, duration_ms: 1000 };
    appendFileSync(join(dir, "logs", `${pipeline}.log`), JSON.stringify(line) + "\n");
    expected += 1;
    await nextSecond();
    await new Promise((r) => setTimeout(r, 300));
    const one = curlOnce(url, bodyFile);
    const counted = parsedLines(readFileSync(bodyFile, "utf8"));
    if (counted !== expected) throw new Error(`the scrape after a line counted ${counted} parsed lines, not ${expected}: the line was not read in time`);
    times.push(one.seconds);
    bytes = one.bytes;
    beside.push(curlOnce(besideUrl!).seconds);
  }
  return summary(times, bytes);
}

async function startPushgateway(): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = start("prometheus-pushgateway", [`--web.listen-address=127.0.0.1:${port}`]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/-/ready`, child);
  return { child, base };
}

async function push(base: string, text: string): Promise<void> {
  const res = await fetch(`${base}/metrics/job/etl`, { method: "PUT", body: text });
  if (res.status !== 200) throw new Error(`Pushgateway refused the push: ${res.status} ${await res.text()}`);
}

const ratio = (ours: number, theirs: number) => `${fmt(ours / theirs, 2)}×`;

async function sideBySide(note: Note): Promise<void> {
  const pushgateway = await startPushgateway();
  try {
    // 1. One pipeline, 50 concurrent scrapers.
    const small = join(WORK, "one-pipeline");
    generate(small, 1, 20_000);
    const exporter = await startExporter(small);
    try {
      const text = etlFamiliesText(await (await fetch(exporter.url)).text());
      await push(pushgateway.base, text);
      const pushed = etlSeries(await (await fetch(`${pushgateway.base}/metrics`)).text());
      note("ETL series, 1 pipeline (exporter / Pushgateway)", `${etlSeries(text)} / ${pushed}`);
      const load = ["-t1", "-c50", `-d${WRK_SECONDS}s`, "--latency"];
      const theirs = wrk([...load, `${pushgateway.base}/metrics`]);
      const rssBefore = rssMb(exporter.child.pid!);
      const ours = wrk([...load, exporter.url]);
      const rssAfter = rssMb(exporter.child.pid!);
      await new Promise((r) => setTimeout(r, 2000));
      const rssSettled = rssMb(exporter.child.pid!);
      const again = wrk([...load, exporter.url]);
      await new Promise((r) => setTimeout(r, 2000));
      const rssAgain = rssMb(exporter.child.pid!);
      const plus = (mb: number) => `${mb >= 0 ? "+" : ""}${fmt(mb, 1)} MB`;
      note(`1 pipeline, wrk ${load.join(" ")}: requests/s (exporter / Pushgateway)`, `${fmt(ours.rps)} / ${fmt(theirs.rps)} = ${ratio(ours.rps, theirs.rps)}`);
      note("same: p50 (exporter / Pushgateway)", `${ours.p50} / ${theirs.p50}`);
      note("same: p99 (exporter / Pushgateway)", `${ours.p99} / ${theirs.p99} = ${ratio(parseMs(ours.p99), parseMs(theirs.p99))}`);
      note(
        `exporter (node ${EXPORTER_V8_FLAGS.join(" ")}) RSS before / after ${fmt(ours.rps * WRK_SECONDS)} scrapes / 2 s later / 2 s after ${fmt(again.rps * WRK_SECONDS)} more`,
        `${fmt(rssBefore, 1)} / ${fmt(rssAfter, 1)} / ${fmt(rssSettled, 1)} / ${fmt(rssAgain, 1)} MB (${plus(rssSettled - rssBefore)}, ${plus(rssAgain - rssBefore)})`,
      );
    } finally {
      await stop(exporter.child);
    }
    // Without the flag V8 grows its young generation from 1 to 16 MB semi-spaces under
    // sustained load and keeps it.
    const unflagged = await startExporter(small, []);
    try {
      await fetch(unflagged.url);
      const before = rssMb(unflagged.child.pid!);
      const load = wrk(["-t1", "-c50", `-d${WRK_SECONDS}s`, unflagged.url]);
      await new Promise((r) => setTimeout(r, 2000));
      const after = rssMb(unflagged.child.pid!);
      note(
        `exporter without ${EXPORTER_V8_FLAGS.join(" ")}: RSS before / 2 s after ${fmt(load.rps * WRK_SECONDS)} scrapes`,
        `${fmt(before, 1)} / ${fmt(after, 1)} MB (${after - before >= 0 ? "+" : ""}${fmt(after - before, 1)} MB), ${fmt(load.rps)} requests/s`,
      );
    } finally {
      await stop(unflagged.child);
    }
  } finally {
    await stop(pushgateway.child);
  }
}

const range = (t: Timed) => `${fmt(t.seconds * 1000, 1)} ms (${fmt(t.min * 1000, 1)}–${fmt(t.max * 1000, 1)})`;

/** 1,000 pipelines: one scrape, quiet, first of a second, and after a line was read, beside the Pushgateway's. */
async function largeSideBySide(note: Note): Promise<void> {
  const pushgateway = await startPushgateway();
  try {
    const large = join(WORK, "1000-pipelines");
    generate(large, 1000, 200_000);
    const big = await startExporter(large);
    try {
      const text = etlFamiliesText(await (await fetch(big.url)).text());
      await push(pushgateway.base, text);
      // Each of ours is followed by one of the Pushgateway's, so both see the same load of the moment.
      besideUrl = `${pushgateway.base}/metrics`;
      const theirsQuiet: number[] = [], theirsFresh: number[] = [], theirsAfterLine: number[] = [];
      const ours = await scrapeTime(big.url, 15, false, theirsQuiet);
      const fresh = await scrapeTime(big.url, 9, true, theirsFresh);
      const afterLine = await scrapeAfterLine(big.url, large, 9, theirsAfterLine);
      const theirs = summary([...theirsQuiet, ...theirsFresh, ...theirsAfterLine], 0);
      const pushgatewayBytes = curlOnce(besideUrl).bytes;
      note("ETL series, 1,000 pipelines logged (500 served: the default ETL_MAX_PIPELINES)", `${fmt(etlSeries(text))} (Pushgateway holds ${fmt(etlSeries(await (await fetch(`${pushgateway.base}/metrics`)).text()))})`);
      note(
        "Pushgateway: one scrape of the same series, median (range) of 33, each right after one of ours",
        `${range(theirs)} (body ${fmt(pushgatewayBytes / 1e6, 2)} MB)`,
      );
      note(
        "1,000 pipelines: one scrape, median (range) of 15 (exporter / Pushgateway right after each)",
        `${range(ours)} / ${range(summary(theirsQuiet, 0))} = ${ratio(ours.seconds, summary(theirsQuiet, 0).seconds)} (body ${fmt(ours.bytes / 1e6, 2)} MB)`,
      );
      note(
        "1,000 pipelines: first scrape of a second, nothing read since the last, median (range) of 9 (exporter / Pushgateway right after each)",
        `${range(fresh)} / ${range(summary(theirsFresh, 0))} = ${ratio(fresh.seconds, summary(theirsFresh, 0).seconds)}`,
      );
      note(
        "1,000 pipelines: first scrape after a line was read (and of its second), median (range) of 9 (exporter / Pushgateway right after each)",
        `${range(afterLine)} / ${range(summary(theirsAfterLine, 0))} = ${ratio(afterLine.seconds, summary(theirsAfterLine, 0).seconds)}`,
      );
    } finally {
      await stop(big.child);
    }
  } finally {
    await stop(pushgateway.child);
  }
}

// wrk's Lua: a different wrong password on every request, base64 done by hand (Lua 5.1 has none).
const FLOOD_LUA = `
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local function at(k) return alphabet:sub(k + 1, k + 1) end
    out[#out + 1] = at(math.floor(n / 262144) % 64) .. at(math.floor(n / 4096) % 64)
      .. (b and at(math.floor(n / 64) % 64) or "=") .. (c and at(n % 64) or "=")
  end
  return table.concat(out)
end
local counter = 0
math.randomseed(os.time())
request = function()
  counter = counter + 1
  local password = "wrong-" .. counter .. "-" .. math.random(1, 1000000000)
  return wrk.format("GET", "/metrics", { ["Authorization"] = "Basic " .. b64("metrics:" .. password) })
end
`;

// A scraper at about 100 requests/s that reports its 95th percentile.
const SCRAPER_LUA = `
function delay() return 10 end
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95)))
end
`;

async function flood(note: Note): Promise<void> {
  const dir = join(WORK, "simulator");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const passwordFile = join(dir, "metrics_password");
  writeFileSync(passwordFile, PASSWORD + "\n", { mode: 0o600 });
  writeFileSync(join(dir, "flood.lua"), FLOOD_LUA);
  writeFileSync(join(dir, "scraper.lua"), SCRAPER_LUA);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  const authorization = basicAuthorization("metrics", PASSWORD);
  const child = start(NODE, ["dist/simulator.mjs", "--data-dir", join(dir, "data")], {
    SIMULATOR_PORT: String(port),
    ETL_METRICS_PASSWORD_FILE: passwordFile,
    ETL_CONTROL_PASSWORD_FILE: passwordFile,
  });
  try {
    // The first scrape verifies (and caches) the right password.
    await waitFor(url, child, { authorization });
    const scraper = ["-t1", "-c1", `-d${WRK_SECONDS}s`, "--latency", "-s", join(dir, "scraper.lua"), "-H", `Authorization: ${authorization}`, url];
    const quiet = wrk(scraper);
    const flooder = spawn("wrk", ["-t1", "-c64", `-d${WRK_SECONDS + 2}s`, "-s", join(dir, "flood.lua"), url], { stdio: ["ignore", "pipe", "ignore"] });
    let floodOut = "";
    flooder.stdout.on("data", (chunk) => (floodOut += chunk));
    const flooderDone = new Promise((r) => flooder.once("exit", r));
    await new Promise((r) => setTimeout(r, 1000));
    const loud = wrk(scraper);
    await flooderDone;
    const floodRps = Number(/Requests\/sec:\s+([\d.]+)/.exec(floodOut)?.[1]);
    const refused = Number(/Non-2xx or 3xx responses: (\d+)/.exec(floodOut)?.[1] ?? 0);
    const total = Number(/(\d+) requests in/.exec(floodOut)?.[1] ?? 0);
    note(
      "wrong-password flood on the simulator, 64 connections",
      `${fmt(floodRps)} requests/s (${fmt(total)} requests, all 401 or 503; right-password scrapes failed: ${quiet.non2xx + loud.non2xx})`,
    );
    note(
      "right-password scraper p95 (without / with the flood)",
      `${fmt(quiet.p95Ms, 2)} ms / ${fmt(loud.p95Ms, 2)} ms = ${ratio(loud.p95Ms, quiet.p95Ms)}`,
    );
    if (refused !== total) note("flood answers that were not 401/503", String(total - refused));
  } finally {
    await stop(child);
  }
}

/** Runs the scrape benchmark, reporting each figure through `note`. */
export async function scrapeBench(note: Note): Promise<void> {
  if (!has("wrk", ["--version"]) || !has("prometheus-pushgateway", ["--version"]) || !has("curl", ["--version"])) {
    note("scrape benchmark", "needs wrk, curl and prometheus-pushgateway (apt-get install wrk curl prometheus-pushgateway)");
    return;
  }
  mkdirSync(WORK, { recursive: true });
  // BENCH_SCRAPE=flood, one-pipeline or large (side-by-side: both of these) runs one part alone.
  const only = process.env.BENCH_SCRAPE;
  if (only === undefined || only === "side-by-side" || only === "one-pipeline") await sideBySide(note);
  if (only === undefined || only === "side-by-side" || only === "large") await largeSideBySide(note);
  if (only === undefined || only === "flood") await flood(note);
}

if ((import.meta as { main?: boolean }).main) {
  const rows: string[] = [];
  await scrapeBench((name, value) => {
    rows.push(`| ${name} | ${value} |`);
    process.stderr.write(`${name}: ${value}\n`);
  });
  process.stdout.write(["| measure | result |", "|---|---|", ...rows].join("\n") + "\n");
}
