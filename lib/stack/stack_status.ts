/**
 * The report of `npm run stack -- status`, without I/O: each service's
 * state, Prometheus's targets and firing alerts (its answers parsed here),
 * and the exit code.
 *
 * @example
 * ```ts
 * import { statusReport } from "./stack_status.ts";
 * const { lines, exitCode } = statusReport({ project: "etl-monitoring", services: ["prometheus"], containers, prometheus });
 * ```
 * @module
 */
import * as z from "zod";
import { type ContainerInfo, readiness } from "./containers.ts";
import { textTable } from "./text_table.ts";

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
