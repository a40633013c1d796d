/**
 * The body Alertmanager POSTs to a `webhook_config` receiver (payload
 * version 4), as zod schemas. Unknown fields are dropped, not refused: a
 * newer Alertmanager may add some, and a receiver that rejected them would
 * lose the notification; keeping them would let any sender make each
 * notification we hold as large and as deep as its body.
 *
 * @example
 * ```ts
 * import { AlertmanagerWebhookSchema, summarizeWebhook } from "./alertmanager_webhook.ts";
 * const parsed = AlertmanagerWebhookSchema.safeParse(JSON.parse(body));
 * if (parsed.success) console.log(summarizeWebhook(parsed.data)); // "[FIRING:1] ETLPipelineStalled pipeline=etl"
 * ```
 * @module
 */
import * as z from "zod";

// Go's zero time is what Alertmanager sends as `endsAt` of an alert still firing.
const Rfc3339Schema = z.iso.datetime({ offset: true, error: "must be an RFC 3339 time" });

/**
 * `firing` or `resolved`, for a whole notification and for each alert.
 *
 * @example
 * ```ts
 * AlertStatusSchema.parse("firing"); // "firing"
 * ```
 */
export const AlertStatusSchema = z.enum(["firing", "resolved"]);

/**
 * Most names a label or annotation set may have: Prometheus alerts carry a
 * few dozen at most. A body of tens of thousands of tiny labels would take
 * twenty times its size to validate, which a flood of them turns into an
 * out-of-memory crash.
 *
 * @example
 * ```ts
 * KeyValuesSchema.safeParse(Object.fromEntries(Array.from({ length: MAX_KEY_VALUES + 1 }, (_, i) => [`k${i}`, ""]))).success; // false
 * ```
 */
export const MAX_KEY_VALUES = 256;

/** Counts at most `limit + 1` own keys, without listing them all first. */
function hasAtMostKeys(value: object, limit: number): boolean {
  let n = 0;
  for (const key in value) {
    if (Object.hasOwn(value, key) && ++n > limit) return false;
  }
  return true;
}

/**
 * Label or annotation names to values (both strings, as Prometheus has
 * them), at most {@linkcode MAX_KEY_VALUES} of them, counted before anything
 * is copied.
 *
 * @example
 * ```ts
 * KeyValuesSchema.parse({ alertname: "ETLPipelineStalled", pipeline: "etl" });
 * ```
 */
export const KeyValuesSchema = z
  .custom<object>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value) && hasAtMostKeys(value, MAX_KEY_VALUES),
    { error: `must be an object of at most ${MAX_KEY_VALUES} names` },
  )
  .pipe(z.record(z.string(), z.string()));
/**
 * One alert of a notification.
 *
 * @example
 * ```ts
 * WebhookAlertSchema.parse({
 *   status: "firing",
 *   labels: { alertname: "ETLPipelineStalled", pipeline: "etl" },
 *   annotations: { summary: "No event for 60 s" },
 *   startsAt: "2026-11-23T10:00:00.000Z",
 *   endsAt: "0001-01-01T00:00:00Z",
 *   generatorURL: "http://127.0.0.1:9090/graph?g0.expr=...",
 *   fingerprint: "6a1b2c3d4e5f6789",
 * });
 * ```
 */
export const WebhookAlertSchema = z.object({
  status: AlertStatusSchema,
  labels: KeyValuesSchema,
  annotations: KeyValuesSchema.default({}),
  startsAt: Rfc3339Schema,
  /** `0001-01-01T00:00:00Z` while the alert fires and its end is unknown. */
  endsAt: Rfc3339Schema,
  generatorURL: z.string().default(""),
  /** Added in Alertmanager 0.19; empty when an older one sends none. */
  fingerprint: z.string().default(""),
});

/**
 * A notification: one group of alerts sent to one receiver.
 *
 * @example
 * ```ts
 * const payload = AlertmanagerWebhookSchema.parse(await request.json());
 * payload.alerts.length; // how many alerts in the group
 * ```
 */
export const AlertmanagerWebhookSchema = z.object({
  version: z.literal("4", { error: 'version must be "4" (the only webhook payload version Alertmanager has sent since 0.4)' }),
  groupKey: z.string(),
  /** Alerts left out because of the receiver's `max_alerts`; absent before Alertmanager 0.22. */
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: AlertStatusSchema,
  receiver: z.string(),
  groupLabels: KeyValuesSchema,
  commonLabels: KeyValuesSchema,
  commonAnnotations: KeyValuesSchema,
  externalURL: z.string(),
  alerts: z.array(WebhookAlertSchema),
});

/**
 * A validated alert.
 *
 * @example
 * ```ts
 * const alert: WebhookAlert = payload.alerts[0]!;
 * alert.labels.alertname;
 * ```
 */
export type WebhookAlert = z.infer<typeof WebhookAlertSchema>;

/**
 * A validated notification.
 *
 * @example
 * ```ts
 * const payload: AlertmanagerWebhook = AlertmanagerWebhookSchema.parse(json);
 * ```
 */
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;

/**
 * Validates a parsed JSON body: the payload, or one message listing every
 * problem with its path (`alerts[0].startsAt: must be an RFC 3339 time`).
 *
 * @example
 * ```ts
 * const result = parseWebhook(JSON.parse(body));
 * if (!result.ok) return c.json({ error: result.message }, 400);
 * result.payload.receiver; // "etl-demo"
 * ```
 */
export function parseWebhook(json: unknown): { ok: true; payload: AlertmanagerWebhook } | { ok: false; message: string } {
  const parsed = AlertmanagerWebhookSchema.safeParse(json);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
    return path === "" ? issue.message : `${path}: ${issue.message}`;
  });
  return { ok: false, message: `not an Alertmanager webhook payload (version 4): ${problems.join("; ")}` };
}

/**
 * One line for a log: status and count as Alertmanager's default titles have
 * them, the alert names, then the group labels.
 *
 * @example
 * ```ts
 * summarizeWebhook(payload); // "[FIRING:2] ETLHighFailureRate, ETLPipelineUnhealthy pipeline=etl"
 * summarizeWebhook(resolved); // "[RESOLVED] ETLPipelineStalled pipeline=etl"
 * ```
 */
export function summarizeWebhook(payload: AlertmanagerWebhook): string {
  const firing = payload.alerts.filter((a) => a.status === "firing").length;
  const head = payload.status === "firing" ? `[FIRING:${firing}]` : "[RESOLVED]";
  const names = [...new Set(payload.alerts.map((a) => a.labels.alertname ?? "(no alertname)"))].join(", ");
  const group = Object.entries(payload.groupLabels)
    .filter(([name]) => name !== "alertname")
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  return [head, names || "(no alerts)", group].filter(Boolean).join(" ");
}
