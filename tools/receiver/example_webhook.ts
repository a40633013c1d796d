/**
 * A webhook payload for the receiver's tests: what Alertmanager sends, so
 * the tests feed the handler, the ring and the worker the real shape.
 *
 * @module
 */

/**
 * A payload as Alertmanager 0.27 sends it (nanosecond `startsAt`, Go's zero
 * time as `endsAt`); top-level fields can be replaced.
 *
 * @example
 * ```ts
 * await fetch("http://127.0.0.1:9095/webhook", {
 *   method: "POST",
 *   headers: { "content-type": "application/json", authorization },
 *   body: JSON.stringify(exampleWebhook({ status: "resolved" })),
 * });
 * ```
 */
export function exampleWebhook(overrides: Record<string, unknown> = {}) {
  const labels = { alertname: "ETLPipelineStalled", pipeline: "etl", severity: "critical", job: "etl-metrics" };
  const summary = "Pipeline etl sent no event for 60 s";
  return {
    receiver: "etl-demo",
    status: "firing",
    alerts: [
      {
        status: "firing",
        labels: { ...labels },
        annotations: { summary, runbook_url: "http://example.invalid/runbook" },
        startsAt: "2026-11-23T10:00:00.123456789Z",
        endsAt: "0001-01-01T00:00:00Z",
        generatorURL: "http://127.0.0.1:9090/graph?g0.expr=etl_health_status+%3D%3D+0&g0.tab=1",
        fingerprint: "6a1b2c3d4e5f6789",
      },
    ],
    groupLabels: { alertname: labels.alertname, pipeline: labels.pipeline },
    commonLabels: { ...labels },
    commonAnnotations: { summary },
    externalURL: "http://127.0.0.1:9093",
    version: "4",
    groupKey: '{}/{severity="critical"}:{alertname="ETLPipelineStalled", pipeline="etl"}',
    truncatedAlerts: 0,
    ...overrides,
  };
}
