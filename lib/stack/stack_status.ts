/**
 * Reading the state of the Compose stack, without I/O: `docker inspect`'s
 * JSON into one state per service (found by the Compose labels, never by
 * container name, which differs between Compose v1 and v2), whether each is
 * ready, the progress lines of a wait, and the report of `status` with
 * Prometheus's targets and alerts, and its exit code.
 *
 * @example
 * ```ts
 * import { containersByService, parseInspect, statusReport } from "./stack_status.ts";
 * const containers = containersByService(parseInspect(inspectJson));
 * const { lines, exitCode } = statusReport({ project: "etl-monitoring", services: ["prometheus"], containers, prometheus });
 * ```
 * @module
 */
import * as z from "zod";
import { ONE_SHOT_SERVICES } from "./compose_project.ts";
import { textTable } from "./text_table.ts";

const PortBindings = z.record(z.string(), z.array(z.object({ HostIp: z.string().optional(), HostPort: z.string() })).nullable());

const InspectEntry = z.object({
  Id: z.string(),
  State: z.object({
    Status: z.string(),
    Running: z.boolean().optional(),
    ExitCode: z.number().optional(),
    Health: z.object({
      Status: z.string(),
      Log: z.array(z.object({ ExitCode: z.number().optional(), Output: z.string().optional() })).nullable().optional(),
    }).nullable().optional(),
  }),
  Config: z.object({ Labels: z.record(z.string(), z.string()).nullable().optional() }),
  NetworkSettings: z.object({ Ports: PortBindings.nullable().optional() }).optional(),
});

/**
 * What the CLI needs of one container.
 *
 * @example
 * ```ts
 * const info: ContainerInfo = {
 *   id: "0123abcd", service: "prometheus", project: "etl-monitoring", oneOff: false, status: "running",
 *   exitCode: 0, health: "healthy", lastHealthOutput: "", ports: { "9090/tcp": [9090] },
 * };
 * ```
 */
export interface ContainerInfo {
  id: string;
  /** The `com.docker.compose.service` label; "" when absent. */
  service: string;
  project: string;
  /** Made by `compose run`, not by `up`. */
  oneOff: boolean;
  /** Docker's state: created, running, restarting, paused, exited, dead. */
  status: string;
  exitCode: number;
  /** Docker's health, or `none` when the image has no healthcheck. */
  health: "healthy" | "unhealthy" | "starting" | "none";
  /** The output of the last health check, trimmed to one line. */
  lastHealthOutput: string;
  /** Host ports published, by container port (`9090/tcp`). */
  ports: Record<string, number[]>;
}

/**
 * Reads the JSON array `docker inspect ID...` prints. Throws an Error when it is not that.
 *
 * @example
 * ```ts
 * parseInspect('[{"Id":"ab","State":{"Status":"exited","ExitCode":0},"Config":{"Labels":{"com.docker.compose.service":"etl-secrets-init"}}}]');
 * // [{ id: "ab", service: "etl-secrets-init", project: "", oneOff: false, status: "exited", exitCode: 0,
 * //    health: "none", lastHealthOutput: "", ports: {} }]
 * ```
 */
export function parseInspect(json: string): ContainerInfo[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new Error("docker inspect printed something that is not JSON");
  }
  const parsed = z.array(InspectEntry).safeParse(data);
  if (!parsed.success) throw new Error(`docker inspect printed an unexpected shape: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  return parsed.data.map((c) => {
    const labels = c.Config.Labels ?? {};
    const health = c.State.Health?.Status;
    const log = c.State.Health?.Log ?? [];
    const ports: Record<string, number[]> = {};
    for (const [containerPort, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
      const hostPorts = (bindings ?? []).map((b) => Number(b.HostPort)).filter((n) => Number.isInteger(n) && n > 0);
      if (hostPorts.length > 0) ports[containerPort] = [...new Set(hostPorts)];
    }
    return {
      id: c.Id,
      service: labels["com.docker.compose.service"] ?? "",
      project: labels["com.docker.compose.project"] ?? "",
      oneOff: (labels["com.docker.compose.oneoff"] ?? "False").toLowerCase() === "true",
      status: c.State.Status,
      exitCode: c.State.ExitCode ?? 0,
      health: health === "healthy" || health === "unhealthy" || health === "starting" ? health : "none",
      lastHealthOutput: (log.at(-1)?.Output ?? "").trim().split(/\r?\n/).filter((l) => l.trim() !== "").at(-1)?.trim().slice(0, 200) ?? "",
      ports,
    };
  });
}

/**
 * The container of each service, leaving out `compose run` ones; when a
 * service has several, a running one wins.
 *
 * @example
 * ```ts
 * containersByService(parseInspect(json)).get("grafana")?.status; // "running"
 * ```
 */
export function containersByService(containers: readonly ContainerInfo[]): Map<string, ContainerInfo> {
  const byService = new Map<string, ContainerInfo>();
  for (const c of containers) {
    if (c.oneOff || c.service === "") continue;
    const seen = byService.get(c.service);
    if (seen === undefined || (seen.status !== "running" && c.status === "running")) byService.set(c.service, c);
  }
  return byService;
}

/**
 * The host port a container publishes for `containerPort` (TCP), if any.
 *
 * @example
 * ```ts
 * publishedPort({ ...info, ports: { "9090/tcp": [19090] } }, 9090); // 19090
 * publishedPort(undefined, 9090); // undefined
 * ```
 */
export function publishedPort(container: ContainerInfo | undefined, containerPort: number): number | undefined {
  return container?.ports[`${containerPort}/tcp`]?.[0];
}

/**
 * Whether a service is where `up` wants it: `ready`, still `waiting`, or
 * `failed` (will not get there by waiting: exited, dead).
 *
 * @example
 * ```ts
 * const r: Readiness = { state: "ready", text: "running, healthy" };
 * ```
 */
export interface Readiness {
  state: "ready" | "waiting" | "failed";
  text: string;
}

/**
 * How a container is, in a few words.
 *
 * @example
 * ```ts
 * describeContainer({ ...info, status: "running", health: "starting" }); // "running, starting"
 * describeContainer({ ...info, status: "exited", exitCode: 3 }); // "exited 3"
 * describeContainer(undefined); // "no container"
 * ```
 */
export function describeContainer(container: ContainerInfo | undefined): string {
  if (container === undefined) return "no container";
  if (container.status === "exited" || container.status === "dead") return `${container.status} ${container.exitCode}`;
  if (container.status === "running") return container.health === "none" ? "running (no healthcheck)" : `running, ${container.health}`;
  return container.status;
}

/**
 * The readiness of `service` given its container: a one-shot service
 * (etl-secrets-init) is ready once exited 0; any other when running and
 * healthy, or running without a healthcheck.
 *
 * @example
 * ```ts
 * readiness("etl-secrets-init", { ...info, status: "exited", exitCode: 0 }); // { state: "ready", text: "exited 0 (done)" }
 * readiness("grafana", { ...info, status: "running", health: "starting" }); // { state: "waiting", text: "running, starting" }
 * readiness("grafana", { ...info, status: "exited", exitCode: 1 }); // { state: "failed", text: "exited 1" }
 * ```
 */
export function readiness(service: string, container: ContainerInfo | undefined): Readiness {
  const text = describeContainer(container);
  if (container === undefined) return { state: "waiting", text };
  const ended = container.status === "exited" || container.status === "dead";
  if (ONE_SHOT_SERVICES.includes(service)) {
    if (ended) return container.exitCode === 0 && container.status === "exited" ? { state: "ready", text: `${text} (done)` } : { state: "failed", text };
    return { state: "waiting", text };
  }
  if (ended) return { state: "failed", text };
  if (container.status === "running" && (container.health === "healthy" || container.health === "none")) return { state: "ready", text };
  return { state: "waiting", text };
}

/**
 * The lines to print when states changed since the last look: one per
 * service whose description differs (every service the first time).
 *
 * @example
 * ```ts
 * stateChanges(new Map([["grafana", "running, starting"]]), new Map([["grafana", "running, healthy"]]), 12.4);
 * // ["  12 s  grafana: running, healthy"]
 * ```
 */
export function stateChanges(before: ReadonlyMap<string, string>, now: ReadonlyMap<string, string>, elapsedSeconds: number): string[] {
  const lines: string[] = [];
  for (const [service, text] of now) {
    if (before.get(service) !== text) lines.push(`${`${Math.round(elapsedSeconds)} s`.padStart(6)}  ${service}: ${text}`);
  }
  return lines;
}

/**
 * The ticking line shown on a terminal while waiting: how long, how many
 * are ready, and the state of those that are not.
 *
 * @example
 * ```ts
 * progressLine(new Map([["a", { state: "ready", text: "running, healthy" }], ["b", { state: "waiting", text: "running, starting" }]]), 7);
 * // "waiting 7 s: 1/2 ready; b running, starting"
 * ```
 */
export function progressLine(states: ReadonlyMap<string, Readiness>, elapsedSeconds: number): string {
  const all = [...states];
  const ready = all.filter(([, r]) => r.state === "ready").length;
  const rest = all.filter(([, r]) => r.state !== "ready").map(([s, r]) => `${s} ${r.text}`);
  return `waiting ${Math.round(elapsedSeconds)} s: ${ready}/${all.length} ready${rest.length > 0 ? `; ${rest.join(", ")}` : ""}`;
}

/**
 * The message when waiting ends without every service ready: which ones and how they are.
 *
 * @example
 * ```ts
 * notReadyMessage(new Map([["grafana", { state: "waiting", text: "running, unhealthy" }]]), { timedOutAfter: 300 });
 * // "timed out after 300 s: grafana is not healthy (running, unhealthy)"
 * ```
 */
export function notReadyMessage(states: ReadonlyMap<string, Readiness>, why: { timedOutAfter: number } | { failed: true }): string {
  const bad = [...states].filter(([, r]) => r.state !== "ready");
  const list = bad.map(([s, r]) => `${s} is ${r.state === "failed" ? "down" : "not healthy"} (${r.text})`).join(", ");
  return "timedOutAfter" in why ? `timed out after ${why.timedOutAfter} s: ${list}` : list;
}

const TargetsResponse = z.object({
  status: z.literal("success"),
  data: z.object({
    activeTargets: z.array(z.object({
      labels: z.record(z.string(), z.string()),
      scrapeUrl: z.string().optional(),
      health: z.string(),
      lastError: z.string().optional(),
    })),
  }),
});

const AlertsResponse = z.object({
  status: z.literal("success"),
  data: z.object({
    alerts: z.array(z.object({
      labels: z.record(z.string(), z.string()),
      state: z.string(),
      activeAt: z.string().optional(),
    })),
  }),
});

/**
 * One scrape target of Prometheus.
 *
 * @example
 * ```ts
 * const target: Target = { job: "etl-metrics", instance: "etl-metrics:8083", health: "up", lastError: "" };
 * ```
 */
export interface Target {
  job: string;
  instance: string;
  health: string;
  lastError: string;
}

/**
 * One alert of Prometheus, pending or firing.
 *
 * @example
 * ```ts
 * const alert: Alert = { name: "EtlHealthCheckFailed", state: "firing", since: "2026-11-23T10:00:00Z", labels: { pipeline: "orders" } };
 * ```
 */
export interface Alert {
  name: string;
  state: string;
  since: string;
  /** The labels other than `alertname`. */
  labels: Record<string, string>;
}

/**
 * The targets of `GET /api/v1/targets`, sorted by job then instance.
 * Throws an Error when the body is not that answer.
 *
 * @example
 * ```ts
 * parseTargets('{"status":"success","data":{"activeTargets":[{"labels":{"job":"prometheus","instance":"localhost:9090"},"health":"up","lastError":""}]}}');
 * // [{ job: "prometheus", instance: "localhost:9090", health: "up", lastError: "" }]
 * ```
 */
export function parseTargets(body: string): Target[] {
  const parsed = TargetsResponse.safeParse(safeJson(body));
  if (!parsed.success) throw new Error("not an answer of /api/v1/targets");
  return parsed.data.data.activeTargets
    .map((t) => ({ job: t.labels.job ?? "", instance: t.labels.instance ?? t.scrapeUrl ?? "", health: t.health, lastError: t.lastError ?? "" }))
    .sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
}

/**
 * The alerts of `GET /api/v1/alerts`, sorted by name. Throws an Error when
 * the body is not that answer.
 *
 * @example
 * ```ts
 * parseAlerts('{"status":"success","data":{"alerts":[{"labels":{"alertname":"EtlLowThroughput","pipeline":"orders"},"state":"firing","activeAt":"2026-11-23T10:00:00Z"}]}}');
 * // [{ name: "EtlLowThroughput", state: "firing", since: "2026-11-23T10:00:00Z", labels: { pipeline: "orders" } }]
 * ```
 */
export function parseAlerts(body: string): Alert[] {
  const parsed = AlertsResponse.safeParse(safeJson(body));
  if (!parsed.success) throw new Error("not an answer of /api/v1/alerts");
  return parsed.data.data.alerts
    .map(({ labels: { alertname, ...labels }, state, activeAt }) => ({ name: alertname ?? "", state, since: activeAt ?? "", labels }))
    .sort((a, b) => a.name.localeCompare(b.name) || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A value fetched from Prometheus, or why it could not be.
 *
 * @example
 * ```ts
 * const targets: Fetched<Target[]> = { ok: false, error: "cannot reach http://127.0.0.1:9090 (ECONNREFUSED)" };
 * ```
 */
export type Fetched<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Everything `status` found.
 *
 * @example
 * ```ts
 * const input: StatusInput = {
 *   project: "etl-monitoring", services: ["prometheus"], containers: new Map(),
 *   prometheus: { url: "http://127.0.0.1:9090", targets: { ok: true, value: [] }, alerts: { ok: true, value: [] } },
 * };
 * ```
 */
export interface StatusInput {
  project: string;
  /** The services of the Compose file, in report order. */
  services: readonly string[];
  containers: ReadonlyMap<string, ContainerInfo>;
  prometheus: { url: string; targets: Fetched<Target[]>; alerts: Fetched<Alert[]> };
}

/**
 * The report of `status` and its exit code: 0 when every service created
 * is ready, every target up and no alert firing; 1 otherwise (or when no
 * service is created at all), with a last line that says what is wrong. A
 * service never created (`up` named others) is shown without counting;
 * pending alerts too.
 *
 * @example
 * ```ts
 * statusReport(input).exitCode; // 0
 * statusReport(input).lines.at(-1); // "All healthy."
 * ```
 */
export function statusReport(input: StatusInput): { lines: string[]; exitCode: 0 | 1 } {
  const problems: string[] = [];
  const lines = [`Services (project ${input.project}):`];
  lines.push(...textTable(input.services.map((service) => {
    const container = input.containers.get(service);
    if (container === undefined) return [service, "not created", "-"];
    const r = readiness(service, container);
    if (r.state !== "ready") problems.push(`${service} ${r.text}`);
    const extra = r.state !== "ready" && container.lastHealthOutput ? `  last check: ${container.lastHealthOutput}` : "";
    return [service, r.text, (r.state === "ready" ? "ok" : "NOT OK") + extra];
  })));
  if (!input.services.some((s) => input.containers.has(s))) problems.push("the stack is not created (npm run stack -- up)");

  const { url, targets, alerts } = input.prometheus;
  lines.push(`Prometheus targets (${url}):`);
  if (!targets.ok) {
    lines.push(`  ${targets.error}`);
    problems.push("Prometheus's targets unknown");
  } else if (targets.value.length === 0) {
    lines.push("  none");
    problems.push("Prometheus has no target");
  } else {
    lines.push(...textTable(targets.value.map((t) => [t.job, t.instance, t.health + (t.lastError ? `  (${t.lastError})` : "")])));
    for (const t of targets.value) if (t.health !== "up") problems.push(`target ${t.job} ${t.instance} ${t.health}`);
  }

  if (!alerts.ok) {
    lines.push(`Alerts: ${alerts.error}`);
    problems.push("alerts unknown");
  } else {
    const firing = alerts.value.filter((a) => a.state === "firing");
    const pending = alerts.value.filter((a) => a.state !== "firing");
    const describe = (a: Alert) => {
      const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(" ");
      return [a.name, labels, a.since ? `since ${a.since}` : ""];
    };
    lines.push(firing.length === 0 ? "Alerts firing: none" : `Alerts firing (${firing.length}):`, ...textTable(firing.map(describe)));
    if (pending.length > 0) lines.push(`Alerts pending (${pending.length}):`, ...textTable(pending.map(describe)));
    if (firing.length > 0) problems.push(`${firing.length} alert${firing.length === 1 ? "" : "s"} firing`);
  }
  lines.push(problems.length === 0 ? "All healthy." : `Not healthy: ${problems.join("; ")}.`);
  return { lines, exitCode: problems.length === 0 ? 0 : 1 };
}
