import { describe, expect, it } from "vitest";
import { AlertmanagerWebhookSchema, MAX_KEY_VALUES, parseWebhook, summarizeWebhook } from "./alertmanager_webhook.ts";
import { exampleWebhook } from "../../tools/receiver/example_webhook.ts";

const samplePayload = exampleWebhook;

describe("AlertmanagerWebhookSchema", () => {
  it("accepts a real payload and keeps every field", () => {
    const payload = AlertmanagerWebhookSchema.parse(samplePayload());
    expect(payload).toEqual(samplePayload());
  });

  it("drops unknown fields at both levels, refusing nothing for them", () => {
    const body = samplePayload({ futureField: { x: 1 } });
    (body.alerts[0] as Record<string, unknown>).silencedBy = [];
    const payload = AlertmanagerWebhookSchema.parse(body);
    expect(payload).toEqual(samplePayload());
    expect(Object.keys(payload)).not.toContain("futureField");
    expect(Object.keys(payload.alerts[0]!)).not.toContain("silencedBy");
  });

  it(`refuses a label set of more than ${MAX_KEY_VALUES} names, which no Prometheus alert has`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_KEY_VALUES + 1 }, (_, i) => [`k${i}`, ""]));
    const result = parseWebhook(samplePayload({ commonLabels: many }));
    expect(result).toEqual({
      ok: false,
      message: `not an Alertmanager webhook payload (version 4): commonLabels: must be an object of at most ${MAX_KEY_VALUES} names`,
    });
    const enough = Object.fromEntries(Array.from({ length: MAX_KEY_VALUES }, (_, i) => [`k${i}`, ""]));
    expect(parseWebhook(samplePayload({ commonLabels: enough })).ok).toBe(true);
  });

  it("fills what older Alertmanagers leave out", () => {
    const body = samplePayload();
    delete (body as Partial<typeof body>).truncatedAlerts;
    const alert = body.alerts[0] as Partial<(typeof body.alerts)[0]>;
    delete alert.fingerprint;
    delete alert.annotations;
    delete alert.generatorURL;
    const payload = AlertmanagerWebhookSchema.parse(body);
    expect(payload.truncatedAlerts).toBe(0);
    expect(payload.alerts[0]).toMatchObject({ fingerprint: "", annotations: {}, generatorURL: "" });
  });

  it("accepts times with an offset and without fractions", () => {
    const body = samplePayload();
    body.alerts[0]!.startsAt = "2026-11-23T11:00:00+01:00";
    body.alerts[0]!.endsAt = "2026-11-23T10:05:00Z";
    expect(AlertmanagerWebhookSchema.safeParse(body).success).toBe(true);
  });
});

describe("parseWebhook", () => {
  it("gives the payload", () => {
    const result = parseWebhook(samplePayload());
    expect(result.ok && result.payload.receiver).toBe("etl-demo");
  });

  it.each([
    [samplePayload({ version: "3" }), 'version: version must be "4" (the only webhook payload version Alertmanager has sent since 0.4)'],
    [samplePayload({ status: "pending" }), "status: Invalid option"],
    [samplePayload({ alerts: "none" }), "alerts: Invalid input: expected array, received string"],
    [samplePayload({ commonLabels: { severity: 3 } }), "commonLabels.severity: Invalid input: expected string, received number"],
  ])("names the field at fault (%#)", (body, problem) => {
    const result = parseWebhook(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message.startsWith("not an Alertmanager webhook payload (version 4): ")).toBe(true);
      expect(result.message).toContain(problem);
    }
  });

  it("names the alert at fault by index", () => {
    const body = samplePayload();
    body.alerts[0]!.startsAt = "yesterday";
    expect(parseWebhook(body)).toEqual({
      ok: false,
      message: "not an Alertmanager webhook payload (version 4): alerts[0].startsAt: must be an RFC 3339 time",
    });
  });

  it("lists every missing field of an empty object", () => {
    const result = parseWebhook({});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      for (const field of ["version", "groupKey", "status", "receiver", "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "alerts"]) {
        expect(result.message).toContain(`${field}: `);
      }
    }
  });

  it("refuses what is not an object", () => {
    for (const body of [null, [], "x", 4]) expect(parseWebhook(body).ok).toBe(false);
  });
});

describe("summarizeWebhook", () => {
  it("counts firing alerts, names them once and shows the group labels", () => {
    const body = samplePayload();
    body.alerts.push({ ...body.alerts[0]!, labels: { ...body.alerts[0]!.labels, alertname: "ETLHighFailureRate" } });
    body.alerts.push({ ...body.alerts[0]!, status: "resolved" });
    expect(summarizeWebhook(AlertmanagerWebhookSchema.parse(body))).toBe("[FIRING:2] ETLPipelineStalled, ETLHighFailureRate pipeline=etl");
  });

  it("says RESOLVED when the group is resolved, and copes with no alerts", () => {
    const resolved = AlertmanagerWebhookSchema.parse(samplePayload({ status: "resolved", alerts: [], groupLabels: {} }));
    expect(summarizeWebhook(resolved)).toBe("[RESOLVED] (no alerts)");
  });
});
