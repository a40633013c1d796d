/**
 * A Docker engine of the tests' own, and the images the Compose stack needs
 * when no image registry is reachable: a Debian base made by `debootstrap`,
 * and stand-ins for the official `node`, `prom/prometheus` and
 * `prom/alertmanager` images built from the host's own binaries, laid out
 * as the official images are.
 *
 * The engine leaves any other Docker alone: its data, exec root, socket and
 * pidfile are in a fresh temporary folder; it has a bridge of its own
 * (`etldk…`) and a /16 of 10.0.0.0/8 that no route, address or name server
 * of the machine uses; and it does not touch iptables (`--iptables=false`),
 * because a dockerd that does flushes the `DOCKER` chains of any other one
 * when it starts. Its containers reach the outside through three rules of
 * ours, tagged with its folder and removed by `stop()`. Service names,
 * published ports (through docker-proxy) and outgoing connections work as
 * with a stock engine.
 *
 * Needs root, and the Debian packages `docker.io`, `debootstrap` (for the
 * base image), `prometheus` and `prometheus-alertmanager` (for their
 * stand-ins).
 *
 * @example
 * ```ts
 * const engine = await startDockerEngine();
 * try {
 *   await buildBaseImage(engine);
 *   await buildStandinImages(engine);
 *   execFileSync("docker-compose", ["-f", file, "up", "-d"], { env: { ...process.env, ...engine.env, ...STANDIN_IMAGE_ENV } });
 * } finally {
 *   await engine.stop();
 * }
 * ```
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { cp, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, delimiter, dirname, isAbsolute, join } from "node:path";

// ---------------------------------------------------------------------------
// Pure helpers

/**
 * One entry of apt's sources, in either of its formats.
 *
 * @example
 * ```ts
 * const source: AptSource = { types: ["deb"], uris: ["http://mirror.example/debian"], suites: ["bookworm"], components: ["main"], enabled: true };
 * ```
 */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
}

const words = (value: string | undefined): string[] => (value ?? "").split(/\s+/).filter((w) => w !== "");

/**
 * Parses a Deb822 `.sources` file: stanzas separated by blank lines,
 * `#` comment lines skipped (also between fields), continuation lines
 * (a multi-line `Signed-By:`) kept with their field, field names in any case.
 *
 * @example
 * ```ts
 * parseDeb822Sources("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n");
 * // [{ types: ["deb"], uris: ["http://mirror.example/debian"], suites: ["bookworm", "bookworm-updates"], components: ["main"], enabled: true }]
 * ```
 */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  const flush = () => {
    if (fields.size > 0) {
      sources.push({
        types: words(fields.get("types")),
        uris: words(fields.get("uris")),
        suites: words(fields.get("suites")),
        components: words(fields.get("components")),
        enabled: (fields.get("enabled") ?? "yes").trim().toLowerCase() !== "no",
      });
    }
    fields = new Map();
    last = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("#")) continue;
    if (line.trim() === "") {
      flush();
    } else if (/^[ \t]/.test(line)) {
      if (last !== undefined) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
  }
  flush();
  return sources;
}

/**
 * Parses the one-line format of `sources.list` and `*.list`:
 * `deb [options] URI suite component…`, comments from `#` to the line's end.
 *
 * @example
 * ```ts
 * parseOneLineSources("deb [arch=amd64] http://mirror.example/debian bookworm main contrib # the main one\n");
 * // [{ types: ["deb"], uris: ["http://mirror.example/debian"], suites: ["bookworm"], components: ["main", "contrib"], enabled: true }]
 * ```
 */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    const match = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s*)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!match) continue;
    sources.push({ types: [match[1]!], uris: [match[2]!], suites: [match[3]!], components: words(match[4]), enabled: true });
  }
  return sources;
}

/**
 * The mirror `debootstrap` should use for `suite`: the first URI (http,
 * https or file) of the first enabled `deb` source that carries `suite`
 * with its `main` component, without a trailing slash; undefined if none.
 *
 * @example
 * ```ts
 * pickAptMirror(parseOneLineSources("deb http://mirror.example/debian/ bookworm main\n"), "bookworm"); // "http://mirror.example/debian"
 * pickAptMirror(parseOneLineSources("deb http://mirror.example/debian-security bookworm-security main\n"), "bookworm"); // undefined
 * ```
 */
export function pickAptMirror(sources: AptSource[], suite: string): string | undefined {
  for (const source of sources) {
    if (!source.enabled || !source.types.includes("deb") || !source.suites.includes(suite) || !source.components.includes("main")) continue;
    const uri = source.uris.find((u) => /^(https?|file):\//.test(u));
    if (uri !== undefined) return uri.replace(/\/+$/, "");
  }
  return undefined;
}

const ipToInt = (ip: string): number => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);

function cidrRange(cidr: string): [number, number] {
  const [ip, bits] = cidr.split("/") as [string, string | undefined];
  const prefix = Number(bits ?? 32);
  const size = 2 ** (32 - prefix);
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}

/**
 * Whether two IPv4 CIDR blocks share an address.
 *
 * @example
 * ```ts
 * cidrsOverlap("10.1.0.0/16", "10.1.2.0/24"); // true
 * cidrsOverlap("10.1.0.0/16", "10.2.0.0/16"); // false
 * ```
 */
export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/**
 * The destinations of `/proc/net/route` as CIDR blocks, the default route
 * left out (it overlaps everything).
 *
 * @example
 * ```ts
 * parseProcNetRoute("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" +
 *   "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
 *   "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n");
 * // ["172.17.0.0/16"]
 * ```
 */
export function parseProcNetRoute(text: string): string[] {
  const cidrs: string[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const destination = parseInt(fields[1]!, 16);
    const mask = parseInt(fields[7]!, 16);
    if (mask === 0) continue;
    // Little-endian: the first octet is the lowest byte.
    const octets = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
    const prefix = octets(mask).reduce((sum, byte) => sum + byte.toString(2).replace(/0/g, "").length, 0);
    cidrs.push(`${octets(destination).join(".")}/${prefix}`);
  }
  return cidrs;
}

/**
 * The IPv4 name servers of a `resolv.conf`, as /32 blocks.
 *
 * @example
 * ```ts
 * parseNameservers("search example\nnameserver 10.255.255.53\nnameserver ::1\n"); // ["10.255.255.53/32"]
 * ```
 */
export function parseNameservers(text: string): string[] {
  return [...text.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => `${m[1]}/32`);
}

/**
 * A /16 of 10.100.0.0–10.249.255.255 that overlaps none of `taken`, trying
 * from the `start`-th candidate on (give a random start so that two engines
 * started together are unlikely to pick the same one); throws if all are taken.
 *
 * @example
 * ```ts
 * pickFreeSubnet(["10.100.0.0/16", "10.101.5.0/24"], 0); // "10.102.0.0/16"
 * ```
 */
export function pickFreeSubnet(taken: string[], start: number): string {
  const count = 150;
  for (let i = 0; i < count; i++) {
    const candidate = `10.${100 + ((start + i) % count)}.0.0/16`;
    if (!taken.some((cidr) => cidrsOverlap(cidr, candidate))) return candidate;
  }
  throw new Error(`no free /16 in 10.100.0.0-10.249.255.255: routes or name servers cover them all (${taken.join(", ")})`);
}

/**
 * The mount points of a `/proc/self/mountinfo` at `dir` or below it, last
 * mounted first (the order to unmount them in). Octal escapes (`\040` for a
 * space) are decoded. `dir` must be an absolute path other than `/`.
 *
 * @example
 * ```ts
 * mountPointsUnder(
 *   "26 1 254:0 / / rw - ext4 /dev/vda rw\n" +
 *   "42 26 254:0 /tmp/e/data /tmp/e/data rw - ext4 /dev/vda rw\n" +
 *   "43 42 0:50 / /tmp/e/data/overlay2/ab/merged rw - overlay overlay rw\n" +
 *   "44 26 0:51 / /tmp/elsewhere rw - tmpfs tmpfs rw\n",
 *   "/tmp/e",
 * ); // ["/tmp/e/data/overlay2/ab/merged", "/tmp/e/data"]
 * ```
 */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const root = dir.replace(/\/+$/, "");
  if (!isAbsolute(dir) || root === "") throw new Error(`mountPointsUnder needs an absolute folder other than /, not ${JSON.stringify(dir)}`);
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 5) continue;
    const point = fields[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (point === root || point.startsWith(`${root}/`)) points.push(point);
  }
  return points.reverse();
}

/**
 * What a Debian root file system is made of: `debootstrap --variant=… --include=… suite`.
 *
 * @example
 * ```ts
 * const spec: RootfsSpec = { suite: "bookworm", variant: "minbase", include: ["busybox", "ca-certificates"] };
 * ```
 */
export interface RootfsSpec {
  suite: string;
  variant: string;
  include: string[];
}

/**
 * The file name of a root file system's cached tarball: the suite, the
 * variant and a hash of what it is made of (the order of `include` does not
 * matter), so that changing the package list makes a new tarball.
 *
 * @example
 * ```ts
 * rootfsCacheName({ suite: "bookworm", variant: "minbase", include: ["busybox", "ca-certificates"] });
 * // "bookworm-minbase-681c18741220.tar"
 * ```
 */
export function rootfsCacheName(spec: RootfsSpec): string {
  // Bump `layout` when what is done to the root file system after debootstrap changes.
  const key = JSON.stringify({ layout: 1, suite: spec.suite, variant: spec.variant, include: [...new Set(spec.include)].sort() });
  return `${spec.suite}-${spec.variant}-${createHash("sha256").update(key).digest("hex").slice(0, 12)}.tar`;
}

// ---------------------------------------------------------------------------
// The engine

/**
 * The base image `buildBaseImage` makes by default.
 *
 * @example
 * ```ts
 * await buildBaseImage(engine); // tags DEFAULT_BASE_IMAGE, "etl-test/bookworm:1"
 * ```
 */
export const DEFAULT_BASE_IMAGE = "etl-test/bookworm:1";

/**
 * The stand-in images `buildStandinImages` builds.
 *
 * @example
 * ```ts
 * await engine.docker(["run", "--rm", STANDIN_IMAGES.node, "node", "--version"]);
 * ```
 */
export const STANDIN_IMAGES = {
  node: "etl-test/node:20-standin",
  prometheus: "etl-test/prometheus:standin",
  alertmanager: "etl-test/alertmanager:standin",
} as const;

/**
 * The variables that make the Compose file use the stand-ins instead of the
 * official images.
 *
 * @example
 * ```ts
 * spawnSync("docker-compose", ["-f", file, "up", "-d"], { env: { ...process.env, ...engine.env, ...STANDIN_IMAGE_ENV } });
 * ```
 */
export const STANDIN_IMAGE_ENV = {
  ETL_NODE_IMAGE: STANDIN_IMAGES.node,
  ETL_PROMETHEUS_IMAGE: STANDIN_IMAGES.prometheus,
  ETL_ALERTMANAGER_IMAGE: STANDIN_IMAGES.alertmanager,
} as const;

/**
 * How long a step took, in milliseconds.
 *
 * @example
 * ```ts
 * for (const { step, ms } of engine.timings) console.log(`${step}: ${(ms / 1000).toFixed(1)} s`);
 * ```
 */
export interface StepTiming {
  step: string;
  ms: number;
}

/**
 * Options of one run of a command.
 *
 * @example
 * ```ts
 * await engine.docker(["import", "-", "x:1"], { stdin: openSync("rootfs.tar", "r"), timeoutMs: 300_000 });
 * ```
 */
export interface RunOptions {
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Text to write to the command's input, or an open file descriptor to read it from. */
  stdin?: string | number;
  /** Output and errors go to this file (appended) instead of being kept. */
  logFile?: string;
  /** Killed (SIGKILL) and rejected after this long; default 10 minutes. */
  timeoutMs?: number;
}

/**
 * A running engine of our own.
 *
 * @example
 * ```ts
 * const engine = await startDockerEngine();
 * const ids = await engine.docker(["ps", "-q"]);
 * await engine.stop();
 * ```
 */
export interface DockerEngine {
  /** What a Docker client needs to talk to this engine: add it to a child process's environment. */
  readonly env: { DOCKER_HOST: string };
  /** The engine's temporary folder (data, exec root, socket, logs: `dockerd.log`, `debootstrap.log`, `build-*.log`). */
  readonly dir: string;
  /** The engine's address block: its bridge has the first /24, networks it creates come from the upper half. */
  readonly subnet: string;
  /** Every step so far, in order: the engine's start, debootstrap, import, each build. */
  readonly timings: StepTiming[];
  /** Runs the Docker CLI against this engine; resolves to its output, rejects with its errors. */
  docker(args: string[], options?: RunOptions): Promise<string>;
  /** Removes every container, network, volume and image, stops dockerd and removes the folder, the bridge and the rules. Safe to call twice. */
  stop(): Promise<void>;
}

/** Written in the engine's folder, so that the leftovers of a run that was killed can be cleaned up by the next. */
interface EngineState {
  dir: string;
  bridge: string;
  subnet: string;
  comment: string;
  /** The process that started the engine. */
  owner: number;
}

const ENGINE_DIR_PREFIX = "etl-dk-";
const STATE_FILE = "engine.json";
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const DEBIAN_ALERTMANAGER_SHARE = "/usr/share/prometheus/alertmanager";
const STANDINS_DIR = join(import.meta.dirname, "standins");
const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const INSTALL_HINT = "apt-get install --no-install-recommends docker.io debootstrap prometheus prometheus-alertmanager";

function findExecutable(name: string, preferred: string[] = []): string {
  const dirs = [...preferred, ...(process.env.PATH ?? "").split(delimiter), ...SYSTEM_DIRS].filter((d) => d !== "");
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found (${INSTALL_HINT})`);
}

// Debian's client (20.10) matches Debian's dockerd; a newer client found first on PATH would do too, but differently.
const dockerCli = () => findExecutable("docker", ["/usr/bin"]);

const toolEnv = (extra: Record<string, string> = {}): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  env.PATH = [...(env.PATH ?? "").split(delimiter), ...SYSTEM_DIRS].filter((d, i, all) => d !== "" && all.indexOf(d) === i).join(delimiter);
  return { ...env, ...extra };
};

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs a command to its end; rejects with its exit status and the tail of its errors (or of its log file). */
function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((done, fail) => {
    const log = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
    const stdin = typeof options.stdin === "number" ? options.stdin : options.stdin === undefined ? "ignore" : "pipe";
    const child = spawn(command, args, { env: toolEnv(options.env), stdio: [stdin, log ?? "pipe", log ?? "pipe"] });
    if (log !== undefined) closeSync(log);
    let out = "";
    let err = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (err += d));
    if (typeof options.stdin === "string") child.stdin!.end(options.stdin);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      fail(new Error(`${command}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return done(out);
      const detail = options.logFile === undefined ? err || out : `${options.logFile}:\n${tail(readFileSync(options.logFile, "utf8"))}`;
      fail(new Error(`${basename(command)} ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${tail(detail)}`));
    });
  });
}

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l !== "");

/** Whether `pid` runs (a zombie, dead but not yet waited for, does not). */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Processes (other than this one) whose command line names `dir`, or whose root or working folder is below it. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const below = (link: string) => {
        const target = readlinkSync(`/proc/${entry}/${link}`);
        return target === dir || target.startsWith(`${dir}/`);
      };
      if (cmdline.includes(`${dir}/`) || below("root") || below("cwd")) pids.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** A temporary folder whose paths stay well under the 108-byte limit of unix sockets (containerd's sockets are 30 bytes deeper). */
function shortTempBase(): string {
  const base = tmpdir();
  return base.length <= 40 ? base : "/tmp";
}

function iptablesRules(state: EngineState): string[][] {
  const tag = ["-m", "comment", "--comment", state.comment];
  return [
    // Needed where another dockerd has set FORWARD's policy to DROP; harmless elsewhere.
    ["-t", "filter", "FORWARD", "-s", state.subnet, ...tag, "-j", "ACCEPT"],
    ["-t", "filter", "FORWARD", "-d", state.subnet, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", ...tag, "-j", "ACCEPT"],
    ["-t", "nat", "POSTROUTING", "-s", state.subnet, "!", "-d", state.subnet, ...tag, "-j", "MASQUERADE"],
  ];
}

async function iptables(action: "-I" | "-D" | "-C", rule: string[]): Promise<void> {
  const [tableFlag, table, chain, ...spec] = rule;
  await run(findExecutable("iptables"), ["-w", tableFlag!, table!, action, chain!, ...spec]);
}

async function setUpNetwork(state: EngineState): Promise<void> {
  const ip = findExecutable("ip");
  const gateway = `${state.subnet.split(".").slice(0, 2).join(".")}.0.1/24`;
  await run(ip, ["link", "add", "name", state.bridge, "type", "bridge"]);
  await run(ip, ["addr", "add", gateway, "dev", state.bridge]);
  await run(ip, ["link", "set", state.bridge, "up"]);
  for (const rule of iptablesRules(state)) await iptables("-I", rule);
}

/** Unmounts everything at or below `dir` (lazily if need be); throws if something stays mounted. */
async function unmountUnder(dir: string): Promise<void> {
  const umount = findExecutable("umount");
  for (let pass = 0; pass < 3; pass++) {
    const points = mountPointsUnder(readFileSync("/proc/self/mountinfo", "utf8"), dir);
    if (points.length === 0) return;
    for (const point of points) {
      await run(umount, [point]).catch(() => run(umount, ["-l", point]).catch(() => undefined));
    }
  }
  const left = mountPointsUnder(readFileSync("/proc/self/mountinfo", "utf8"), dir);
  if (left.length > 0) throw new Error(`still mounted, so ${dir} was not removed: ${left.join(", ")}`);
}

/** Runs clean-up steps one after another; a step that fails is noted in `errors` and the next one still runs. */
function collectingErrors(errors: string[]): (what: string, work: () => Promise<unknown>) => Promise<void> {
  return async (what, work) => {
    try {
      await work();
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`);
    }
  };
}

/**
 * Removes what an engine leaves once its dockerd is gone: stray processes,
 * our iptables rules, its bridges, its mounts and its folder.
 */
async function tearDown(state: EngineState): Promise<void> {
  const errors: string[] = [];
  const attempt = collectingErrors(errors);
  await attempt("kill stray processes", async () => {
    const strays = processesUsing(state.dir);
    for (const pid of strays) process.kill(pid, "SIGKILL");
    if (!(await waitUntil(() => strays.every((pid) => !isAlive(pid)), 10_000))) throw new Error(`still running: ${strays.join(" ")}`);
  });
  for (const rule of iptablesRules(state)) {
    await attempt(`remove iptables rule ${rule.join(" ")}`, async () => {
      const present = await iptables("-C", rule).then(() => true, () => false);
      if (present) await iptables("-D", rule);
    });
  }
  await attempt("remove bridges", async () => {
    const ip = findExecutable("ip");
    // Ours, and those of networks the engine made and did not remove: any br-… in our block.
    const bridges = new Set<string>();
    if (existsSync(`/sys/class/net/${state.bridge}`)) bridges.add(state.bridge);
    for (const line of lines(await run(ip, ["-4", "-o", "addr", "show"]))) {
      const match = /^\d+:\s+(br-[0-9a-f]+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line);
      if (match && cidrsOverlap(`${match[2]}/32`, state.subnet)) bridges.add(match[1]!);
    }
    for (const bridge of bridges) await run(ip, ["link", "del", bridge]);
  });
  await attempt(`remove ${state.dir}`, async () => {
    if (!basename(state.dir).startsWith(ENGINE_DIR_PREFIX)) throw new Error("not an engine folder");
    await unmountUnder(state.dir);
    await rm(state.dir, { recursive: true, force: true });
  });
  if (errors.length > 0) throw new Error(errors.join("\n"));
}

/**
 * Cleans up the engines of earlier runs whose test process died without
 * stopping them (their folder names this module's prefix and holds its state
 * file): their dockerd is stopped, then they are torn down. Engines whose
 * test process still runs are left alone.
 */
async function reapStaleEngines(base: string): Promise<void> {
  for (const name of readdirSync(base)) {
    if (!name.startsWith(ENGINE_DIR_PREFIX)) continue;
    const dir = join(base, name);
    let state: EngineState;
    try {
      state = JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as EngineState;
    } catch {
      continue;
    }
    if (state.dir !== dir || isAlive(state.owner)) continue;
    try {
      const pid = Number(readFileSync(join(dir, "dockerd.pid"), "utf8"));
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`${dir}/`)) {
        process.kill(pid, "SIGTERM");
        await waitUntil(() => !isAlive(pid), 30_000);
      }
    } catch {
      // no dockerd left
    }
    await tearDown(state).catch((error: Error) => console.warn(`could not clean up the stale Docker engine in ${dir}: ${error.message}`));
  }
}

/**
 * Starts a dockerd of our own in a fresh temporary folder and waits until it
 * answers; see the module's notes for how it keeps out of other engines' way.
 * Needs root. First cleans up the engines of earlier runs that were killed
 * before they could stop theirs.
 *
 * @example
 * ```ts
 * const engine = await startDockerEngine();
 * spawnSync("docker", ["info"], { env: { ...process.env, ...engine.env } });
 * await engine.stop();
 * ```
 */
export async function startDockerEngine(options: { startTimeoutMs?: number } = {}): Promise<DockerEngine> {
  if (process.getuid?.() !== 0) throw new Error("a Docker engine of our own needs root");
  const dockerd = findExecutable("dockerd");
  const docker = dockerCli();
  const base = shortTempBase();
  await reapStaleEngines(base);

  const began = Date.now();
  const taken = [
    ...parseProcNetRoute(readFileSync("/proc/net/route", "utf8")),
    ...(existsSync("/etc/resolv.conf") ? parseNameservers(readFileSync("/etc/resolv.conf", "utf8")) : []),
  ];
  const subnet = pickFreeSubnet(taken, randomInt(150));
  const dir = await mkdtemp(join(base, ENGINE_DIR_PREFIX));
  const state: EngineState = { dir, bridge: `etldk${randomBytes(3).toString("hex")}`, subnet, comment: `etl-test-engine ${dir}`, owner: process.pid };
  const env = { DOCKER_HOST: `unix://${join(dir, "docker.sock")}` };
  const timings: StepTiming[] = [];
  const dockerRun = (args: string[], runOptions: RunOptions = {}) =>
    run(docker, args, { ...runOptions, env: { ...env, DOCKER_BUILDKIT: "0", ...runOptions.env } });

  let exited: Promise<void> = Promise.resolve();
  let child: ReturnType<typeof spawn> | undefined;
  const stopDaemon = async () => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 30_000)))]);
    clearTimeout(timer);
    if (!stopped) {
      child.kill("SIGKILL");
      await exited;
    }
  };

  try {
    await writeFile(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    await setUpNetwork(state);
    await writeFile(join(dir, "daemon.json"), "{}\n"); // so that /etc/docker/daemon.json, if any, is not read
    const [b0, b1] = subnet.split(".");
    const log = openSync(join(dir, "dockerd.log"), "a");
    child = spawn(
      dockerd,
      [
        `--config-file=${join(dir, "daemon.json")}`,
        `--data-root=${join(dir, "data")}`,
        `--exec-root=${join(dir, "x")}`,
        `--pidfile=${join(dir, "dockerd.pid")}`,
        `--host=${env.DOCKER_HOST}`,
        `--bridge=${state.bridge}`,
        `--default-address-pool=base=${b0}.${b1}.128.0/17,size=24`,
        "--iptables=false",
        "--default-ulimit=nofile=20000:20000",
      ],
      { env: toolEnv(), stdio: ["ignore", log, log] },
    );
    closeSync(log);
    const daemon = child;
    exited = new Promise((r) => daemon.once("exit", () => r()));
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error("dockerd exited");
      const answered = await dockerRun(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5_000 }).then(() => true, () => false);
      if (answered) break;
      if (Date.now() > deadline) throw new Error("dockerd did not answer in time");
      await new Promise((r) => setTimeout(r, 100));
    }
    timings.push({ step: "dockerd start", ms: Date.now() - began });
  } catch (error) {
    const log = existsSync(join(dir, "dockerd.log")) ? tail(readFileSync(join(dir, "dockerd.log"), "utf8"), 20) : "";
    await stopDaemon().catch(() => undefined);
    await tearDown(state).catch(() => undefined);
    throw new Error(`could not start a Docker engine in ${dir}: ${(error as Error).message}${log ? `\n${log}` : ""}`);
  }

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const errors: string[] = [];
    const attempt = collectingErrors(errors);
    if (child?.exitCode === null && child.signalCode === null) {
      await attempt("remove containers", async () => {
        const ids = lines(await dockerRun(["ps", "-aq"]));
        if (ids.length > 0) await dockerRun(["rm", "-f", "-v", ...ids]);
      });
      await attempt("remove networks", async () => {
        const ids = lines(await dockerRun(["network", "ls", "-q", "--filter", "type=custom"]));
        if (ids.length > 0) await dockerRun(["network", "rm", ...ids]);
      });
      await attempt("remove volumes", async () => {
        const names = lines(await dockerRun(["volume", "ls", "-q"]));
        if (names.length > 0) await dockerRun(["volume", "rm", "-f", ...names]);
      });
      await attempt("remove images", () => dockerRun(["image", "prune", "-a", "-f"]));
    }
    await attempt("stop dockerd", stopDaemon);
    await attempt("clean up", () => tearDown(state));
    if (errors.length > 0) throw new Error(`the Docker engine in ${dir} did not stop cleanly:\n${errors.join("\n")}`);
  };

  return {
    env,
    dir,
    subnet,
    timings,
    docker: dockerRun,
    stop: () => (stopping ??= stop()),
  };
}

// ---------------------------------------------------------------------------
// Images

/**
 * The mirror apt uses for `suite` on this machine, read from
 * `/etc/apt/sources.list`, then `sources.list.d/*.list` and `*.sources` in
 * name order (apt's order); throws if none carries `suite`'s `main`.
 *
 * @example
 * ```ts
 * await readAptMirror("bookworm"); // "http://mirror.example/debian", say
 * ```
 */
export async function readAptMirror(suite: string, aptDir = "/etc/apt"): Promise<string> {
  const sources: AptSource[] = [];
  const list = join(aptDir, "sources.list");
  if (existsSync(list)) sources.push(...parseOneLineSources(await readFile(list, "utf8")));
  const partsDir = join(aptDir, "sources.list.d");
  const parts = existsSync(partsDir) ? (await readdir(partsDir)).sort() : [];
  for (const name of parts) {
    if (name.endsWith(".list")) sources.push(...parseOneLineSources(await readFile(join(partsDir, name), "utf8")));
    if (name.endsWith(".sources")) sources.push(...parseDeb822Sources(await readFile(join(partsDir, name), "utf8")));
  }
  const mirror = pickAptMirror(sources, suite);
  if (mirror === undefined) throw new Error(`no apt source in ${aptDir} carries ${suite} main: debootstrap needs a Debian mirror`);
  return mirror;
}

/**
 * Where root file system tarballs are cached between runs:
 * `$XDG_CACHE_HOME/etl-monitoring-tests`, or `~/.cache/etl-monitoring-tests`.
 *
 * @example
 * ```ts
 * join(defaultCacheDir(), rootfsCacheName(spec));
 * ```
 */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "etl-monitoring-tests");
}

/**
 * What `buildBaseImage` did.
 *
 * @example
 * ```ts
 * const { tag, fromCache } = await buildBaseImage(engine);
 * ```
 */
export interface BaseImage {
  tag: string;
  /** The root file system came from the cache: no debootstrap this time. */
  fromCache: boolean;
  /** The cached tarball, or undefined when caching is off. */
  tarball: string | undefined;
}

/**
 * Makes the Debian base image: `debootstrap --variant=minbase
 * --include=busybox,ca-certificates bookworm` from the mirror of the
 * machine's apt configuration, apt's downloaded packages and lists removed,
 * then `docker import`. The root file system's tarball is cached (see
 * {@linkcode defaultCacheDir}; `cacheDir: null` turns the cache off), keyed by
 * the package list, so later runs skip debootstrap.
 *
 * @example
 * ```ts
 * const base = await buildBaseImage(engine); // { tag: "etl-test/bookworm:1", fromCache: false, tarball: "/root/.cache/…" }
 * await engine.docker(["run", "--rm", base.tag, "cat", "/etc/debian_version"]);
 * ```
 */
export async function buildBaseImage(engine: DockerEngine, tag = DEFAULT_BASE_IMAGE, options: { cacheDir?: string | null } = {}): Promise<BaseImage> {
  const spec: RootfsSpec = { suite: "bookworm", variant: "minbase", include: ["busybox", "ca-certificates"] };
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const cached = cacheDir === null ? undefined : join(cacheDir, rootfsCacheName(spec));
  const fromCache = cached !== undefined && existsSync(cached);
  let tarball = cached;
  if (!fromCache) {
    const mirror = await readAptMirror(spec.suite);
    const rootfs = join(engine.dir, "rootfs");
    let began = Date.now();
    try {
      await run(
        findExecutable("debootstrap"),
        [`--variant=${spec.variant}`, `--include=${spec.include.join(",")}`, spec.suite, rootfs, mirror],
        { logFile: join(engine.dir, "debootstrap.log"), timeoutMs: 20 * 60_000 },
      );
      engine.timings.push({ step: "debootstrap", ms: Date.now() - began });
      // What the official Debian images leave out too: apt's downloaded packages and lists (`apt-get update` brings the lists back).
      for (const sub of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
        for (const name of await readdir(join(rootfs, sub))) {
          if (name !== "partial" && name !== "lock") await rm(join(rootfs, sub, name), { recursive: true, force: true });
        }
      }
      for (const name of await readdir(join(rootfs, "var/cache/apt"))) {
        if (name.endsWith(".bin")) await rm(join(rootfs, "var/cache/apt", name), { force: true });
      }
      tarball = cached ?? join(engine.dir, "rootfs.tar");
      await mkdir(dirname(tarball), { recursive: true });
      const partial = `${tarball}.${process.pid}.partial`;
      began = Date.now();
      await run(findExecutable("tar"), ["--numeric-owner", "-C", rootfs, "-cf", partial, "."]);
      await rename(partial, tarball);
      engine.timings.push({ step: "rootfs tar", ms: Date.now() - began });
    } finally {
      // debootstrap mounts /proc and /sys in the root file system while it runs, and may leave them mounted if it fails.
      await unmountUnder(rootfs);
      await rm(rootfs, { recursive: true, force: true });
    }
  }
  const began = Date.now();
  const input = openSync(tarball!, "r");
  try {
    await engine.docker(["import", "-", tag], { stdin: input });
  } finally {
    closeSync(input);
  }
  engine.timings.push({ step: `import ${tag}${fromCache ? " (cached rootfs)" : ""}`, ms: Date.now() - began });
  return { tag, fromCache, tarball: cached };
}

/** The folder of the npm package that goes with the running node. */
function hostNpmPackage(): string {
  const candidates = [join(dirname(dirname(realpathSync(process.execPath))), "lib/node_modules/npm")];
  const root = spawnSync("npm", ["root", "-g"], { encoding: "utf8", env: toolEnv() });
  if (root.status === 0) candidates.push(join(root.stdout.trim(), "npm"));
  for (const candidate of candidates) {
    try {
      if ((JSON.parse(readFileSync(join(candidate, "package.json"), "utf8")) as { name?: string }).name === "npm") return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`npm's package folder not found (looked in ${candidates.join(", ")})`);
}

/** Builds `tests/docker/standins/<name>` with `files` (context name → host path; null: an empty folder) added to its context. */
async function buildStandin(
  engine: DockerEngine,
  name: keyof typeof STANDIN_IMAGES,
  files: Record<string, string | null>,
  buildArgs: Record<string, string>,
): Promise<void> {
  const context = join(engine.dir, "build", name);
  await rm(context, { recursive: true, force: true });
  await mkdir(dirname(context), { recursive: true });
  await cp(join(STANDINS_DIR, name), context, { recursive: true });
  for (const [target, source] of Object.entries(files)) {
    if (source === null) await mkdir(join(context, target));
    else if (statSync(source).isDirectory()) await cp(source, join(context, target), { recursive: true, verbatimSymlinks: true });
    else await copyFile(source, join(context, target));
  }
  const began = Date.now();
  try {
    const args = Object.entries(buildArgs).flatMap(([key, value]) => ["--build-arg", `${key}=${value}`]);
    await engine.docker(["build", "--force-rm", ...args, "-t", STANDIN_IMAGES[name], context], { logFile: join(engine.dir, `build-${name}.log`), timeoutMs: 15 * 60_000 });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  engine.timings.push({ step: `build ${STANDIN_IMAGES[name]}`, ms: Date.now() - began });
}

/**
 * Builds the stand-ins of the official images from `base` (made by
 * {@linkcode buildBaseImage}) and the host's binaries, as laid out in
 * `tests/docker/standins/`:
 * - node: the running node at /usr/local/bin/node, its npm at
 *   /usr/local/lib/node_modules/npm with npm and npx links, user `node`
 *   (1000:1000, /home/node), the host's CA bundle with `NODE_EXTRA_CA_CERTS`
 *   pointing at it, the official entrypoint's behaviour;
 * - prometheus: Debian's prometheus and promtool in /bin, /etc/prometheus and
 *   /prometheus owned by nobody, `USER nobody`, the official entrypoint and
 *   default command, busybox's wget;
 * - alertmanager: likewise, with Debian's prometheus-alertmanager as
 *   /bin/alertmanager and amtool, and the templates Debian's build reads
 *   from /usr/share/prometheus/alertmanager.
 *
 * Each build's output is in `<engine.dir>/build-<name>.log`. Resolves to
 * the images' names as the Compose file's variables ({@linkcode STANDIN_IMAGE_ENV}),
 * ready to be spread into its environment.
 *
 * @example
 * ```ts
 * await buildBaseImage(engine);
 * const images = await buildStandinImages(engine);
 * // { ETL_NODE_IMAGE: "etl-test/node:20-standin", ETL_PROMETHEUS_IMAGE: "etl-test/prometheus:standin", ETL_ALERTMANAGER_IMAGE: "etl-test/alertmanager:standin" }
 * spawnSync("docker-compose", ["up", "-d"], { env: { ...process.env, ...engine.env, ...images } });
 * ```
 */
export async function buildStandinImages(engine: DockerEngine, base = DEFAULT_BASE_IMAGE): Promise<typeof STANDIN_IMAGE_ENV> {
  if (!existsSync(HOST_CA_BUNDLE)) throw new Error(`${HOST_CA_BUNDLE} not found: the node stand-in needs the host's CA bundle`);
  await buildStandin(
    engine,
    "node",
    { node: realpathSync(process.execPath), npm: hostNpmPackage(), "ca-certificates.crt": HOST_CA_BUNDLE },
    { BASE_IMAGE: base, NODE_VERSION: process.version.slice(1) },
  );
  await buildStandin(
    engine,
    "prometheus",
    { prometheus: findExecutable("prometheus"), promtool: findExecutable("promtool") },
    { BASE_IMAGE: base },
  );
  const alertmanager = (() => {
    try {
      return findExecutable("prometheus-alertmanager"); // Debian's name
    } catch {
      return findExecutable("alertmanager");
    }
  })();
  // Debian's build reads its notification templates from here instead of embedding them, and refuses its configuration without them.
  const share = existsSync(DEBIAN_ALERTMANAGER_SHARE) ? DEBIAN_ALERTMANAGER_SHARE : null;
  await buildStandin(engine, "alertmanager", { alertmanager, amtool: findExecutable("amtool"), share }, { BASE_IMAGE: base });
  return STANDIN_IMAGE_ENV;
}
