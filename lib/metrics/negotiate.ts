/**
 * Chooses the exposition format from an `Accept` header: OpenMetrics 1.0
 * when the client asks for it (Prometheus does when it may), otherwise the
 * Prometheus text format 0.0.4.
 *
 * @example
 * ```ts
 * import { negotiateFormat } from "./negotiate.ts";
 * negotiateFormat("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"); // "openmetrics"
 * negotiateFormat(undefined); // "text"
 * ```
 * @module
 */

/** The two formats served. */
export type ExpositionFormat = "text" | "openmetrics";

/** Content types, as prom-client writes them. */
export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** Picks OpenMetrics when it is acceptable with a quality at least that of every text/plain entry. */
export function negotiateFormat(accept: string | undefined | null): ExpositionFormat {
  if (!accept) return "text";
  let openMetricsQ = -1;
  let textQ = -1;
  for (const part of accept.split(",")) {
    const [mediaRange = "", ...params] = part.trim().split(";").map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    const type = mediaRange.toLowerCase();
    if (type === "application/openmetrics-text") openMetricsQ = Math.max(openMetricsQ, q);
    else if (type === "text/plain" || type === "*/*" || type === "text/*") textQ = Math.max(textQ, q);
  }
  return openMetricsQ > 0 && openMetricsQ >= textQ ? "openmetrics" : "text";
}
