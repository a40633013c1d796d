/**
 * Optional remote write of everything Prometheus stores to long-term storage
 * (Mimir, Thanos Receive, VictoriaMetrics, Grafana Cloud: see
 * docs/remote-write.md), switched on by settings: off unless
 * `ETL_REMOTE_WRITE_URL` is set. Credentials are read by Prometheus from
 * files (basic auth or a bearer token), never written into the configuration.
 *
 * @example
 * ```ts
 * import { parseSettings } from "../config/settings.ts";
 * import { REMOTE_WRITE_SETTINGS, remoteWriteConfigs } from "./remote_write.ts";
 * const parsed = parseSettings(REMOTE_WRITE_SETTINGS, { ETL_REMOTE_WRITE_URL: "http://mimir:9009/api/v1/push" }, []);
 * if (parsed.ok) remoteWriteConfigs(parsed.values); // [{ name: "long-term", url: …, queue_config: … }]
 * ```
 * @module
 */
import * as z from "zod";
import type { SettingsOf, SettingsSpec } from "../config/settings.ts";

const optionalText = z.string().min(1).optional();
const count = (fallback: number, max: number) =>
  z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1).max(max).default(fallback);
const duration = (fallback: string) =>
  z.string().regex(/^(\d+(ms|s|m|h))+$/, "must be a Prometheus duration such as 5s or 100ms").default(fallback);

/**
 * The settings. Queue defaults are Prometheus 2.42's own, stated here so
 * the generated file says what applies.
 */
export const REMOTE_WRITE_SETTINGS = {
  url: {
    env: "ETL_REMOTE_WRITE_URL",
    flag: "remote-write-url",
    help: "Where Prometheus sends every sample (remote_write); unset: no remote write.",
    defaultText: "unset (off)",
    schema: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  },
  name: {
    env: "ETL_REMOTE_WRITE_NAME",
    flag: "remote-write-name",
    help: "Name of the remote_write entry (in Prometheus's own metrics, label remote_name).",
    defaultText: "long-term",
    schema: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be lower-case letters, digits, - or _").default("long-term"),
  },
  username: {
    env: "ETL_REMOTE_WRITE_USERNAME",
    flag: "remote-write-username",
    help: "Basic auth user (Grafana Cloud: the instance id); needs the password file.",
    defaultText: "unset",
    schema: optionalText,
  },
  passwordFile: {
    env: "ETL_REMOTE_WRITE_PASSWORD_FILE",
    flag: "remote-write-password-file",
    help: "File with the basic auth password (Grafana Cloud: an access policy token).",
    defaultText: "unset",
    schema: optionalText,
  },
  bearerTokenFile: {
    env: "ETL_REMOTE_WRITE_BEARER_TOKEN_FILE",
    flag: "remote-write-bearer-token-file",
    help: "File with a bearer token (Authorization: Bearer); instead of basic auth.",
    defaultText: "unset",
    schema: optionalText,
  },
  tenant: {
    env: "ETL_REMOTE_WRITE_TENANT",
    flag: "remote-write-tenant",
    help: "Tenant id sent in the tenant header (Mimir, Cortex, Thanos Receive with tenancy).",
    defaultText: "unset",
    schema: optionalText,
  },
  tenantHeader: {
    env: "ETL_REMOTE_WRITE_TENANT_HEADER",
    flag: "remote-write-tenant-header",
    help: "The tenant header: X-Scope-OrgID (Mimir, Cortex) or THANOS-TENANT (Thanos Receive).",
    defaultText: "X-Scope-OrgID",
    schema: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be a header name").default("X-Scope-OrgID"),
  },
  capacity: {
    env: "ETL_REMOTE_WRITE_CAPACITY",
    flag: "remote-write-capacity",
    help: "Samples buffered per shard before reading the WAL pauses.",
    defaultText: "2500",
    schema: count(2500, 1_000_000),
  },
  maxShards: {
    env: "ETL_REMOTE_WRITE_MAX_SHARDS",
    flag: "remote-write-max-shards",
    help: "Most parallel senders.",
    defaultText: "200",
    schema: count(200, 10_000),
  },
  maxSamplesPerSend: {
    env: "ETL_REMOTE_WRITE_MAX_SAMPLES_PER_SEND",
    flag: "remote-write-max-samples-per-send",
    help: "Samples per request.",
    defaultText: "500",
    schema: count(500, 100_000),
  },
  batchSendDeadline: {
    env: "ETL_REMOTE_WRITE_BATCH_SEND_DEADLINE",
    flag: "remote-write-batch-send-deadline",
    help: "Longest wait before a shard sends a partial batch.",
    defaultText: "5s",
    schema: duration("5s"),
  },
  maxBackoff: {
    env: "ETL_REMOTE_WRITE_MAX_BACKOFF",
    flag: "remote-write-max-backoff",
    help: "Longest wait between retries of a failed send (retries go on until the WAL is truncated, about 2 h).",
    defaultText: "5s",
    schema: duration("5s"),
  },
} satisfies SettingsSpec;

/** Parsed remote-write settings. */
export type RemoteWriteSettings = SettingsOf<typeof REMOTE_WRITE_SETTINGS>;

/**
 * What is wrong in settings that parse one by one but not together.
 *
 * @example
 * ```ts
 * remoteWriteProblems({ ...values, username: "u" }); // ["ETL_REMOTE_WRITE_USERNAME needs ETL_REMOTE_WRITE_PASSWORD_FILE"]
 * ```
 */
export function remoteWriteProblems(s: RemoteWriteSettings): string[] {
  const env = (k: keyof typeof REMOTE_WRITE_SETTINGS) => REMOTE_WRITE_SETTINGS[k].env;
  const problems: string[] = [];
  if ((s.username === undefined) !== (s.passwordFile === undefined)) {
    problems.push(`${env("username")} and ${env("passwordFile")} go together`);
  }
  if (s.passwordFile !== undefined && s.bearerTokenFile !== undefined) {
    problems.push(`${env("passwordFile")} (basic auth) and ${env("bearerTokenFile")} (bearer) exclude each other`);
  }
  const credentialsSet = s.username !== undefined || s.passwordFile !== undefined || s.bearerTokenFile !== undefined || s.tenant !== undefined;
  if (s.url === undefined && credentialsSet) problems.push(`remote write settings given without ${env("url")}`);
  return problems;
}

/**
 * The `remote_write` entries for `settings`: none when the URL is unset.
 * Throws when {@linkcode remoteWriteProblems} finds any.
 */
export function remoteWriteConfigs(s: RemoteWriteSettings): Record<string, unknown>[] {
  const problems = remoteWriteProblems(s);
  if (problems.length > 0) throw new Error(`Bad remote write settings: ${problems.join("; ")}`);
  if (s.url === undefined) return [];
  return [{
    name: s.name,
    url: s.url,
    ...(s.passwordFile !== undefined ? { basic_auth: { username: s.username, password_file: s.passwordFile } } : {}),
    ...(s.bearerTokenFile !== undefined ? { authorization: { type: "Bearer", credentials_file: s.bearerTokenFile } } : {}),
    ...(s.tenant !== undefined ? { headers: { [s.tenantHeader]: s.tenant } } : {}),
    queue_config: {
      capacity: s.capacity,
      max_shards: s.maxShards,
      max_samples_per_send: s.maxSamplesPerSend,
      batch_send_deadline: s.batchSendDeadline,
      max_backoff: s.maxBackoff,
    },
  }];
}

/**
 * A Prometheus configuration with the remote write of `settings` in place
 * of any it had (none when off). The input is not changed.
 *
 * @example
 * ```ts
 * withRemoteWrite(parse(readFileSync("prometheus/prometheus.yml", "utf8")), values);
 * ```
 */
export function withRemoteWrite<T extends Record<string, unknown>>(config: T, s: RemoteWriteSettings): T {
  const { remote_write: _old, ...rest } = config;
  const entries = remoteWriteConfigs(s);
  return (entries.length === 0 ? rest : { ...rest, remote_write: entries }) as unknown as T;
}

/**
 * The settings docs/remote-write.md gives for each backend (a test runs
 * promtool on each and checks the page shows them). Hosts are examples.
 */
export const REMOTE_WRITE_EXAMPLES: Record<"mimir" | "thanosReceive" | "victoriaMetrics" | "grafanaCloud", Record<string, string>> = {
  mimir: {
    ETL_REMOTE_WRITE_URL: "http://mimir.example.internal:8080/api/v1/push",
    ETL_REMOTE_WRITE_TENANT: "etl",
  },
  thanosReceive: {
    ETL_REMOTE_WRITE_URL: "http://thanos-receive.example.internal:19291/api/v1/receive",
    ETL_REMOTE_WRITE_TENANT: "etl",
    ETL_REMOTE_WRITE_TENANT_HEADER: "THANOS-TENANT",
  },
  victoriaMetrics: {
    ETL_REMOTE_WRITE_URL: "http://victoriametrics.example.internal:8428/api/v1/write",
    ETL_REMOTE_WRITE_BEARER_TOKEN_FILE: "secrets/remote_write_token",
  },
  grafanaCloud: {
    ETL_REMOTE_WRITE_URL: "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom/push",
    ETL_REMOTE_WRITE_USERNAME: "123456",
    ETL_REMOTE_WRITE_PASSWORD_FILE: "secrets/grafana_cloud_token",
  },
};
