/**
 * The containers of the Compose stack, without I/O: `docker inspect`'s JSON
 * into one state per service (found by the Compose labels, never by
 * container name, which differs between Compose v1 and v2), whether each is
 * ready, and the progress lines of a wait.
 *
 * @module
 */
import * as z from "zod";
import { ONE_SHOT_SERVICES } from "./compose_project.ts";

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
