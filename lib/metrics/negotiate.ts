/**
 * Chooses the exposition format from an `Accept` header: OpenMetrics 1.0
 * when the client asks for it (Prometheus does when it may), otherwise the
 * Prometheus text format 0.0.4.
 *
 * A media range names a format we serve only with a `version` parameter we
 * write (OpenMetrics `1.0.0`, text `0.0.4`) or none: the OpenMetrics spec
 * makes the version part of the content type, so `version=99` asks for a
 * format we cannot produce and does not match. When nothing acceptable
 * matches, the answer is text 0.0.4, the format every scraper reads (as
 * Prometheus's own client libraries do).
 *
 * @example
 * ```ts
 * import { negotiateFormat } from "./negotiate.ts";
 * negotiateFormat("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"); // "openmetrics"
 * negotiateFormat("application/openmetrics-text;version=99"); // "text"
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

const VERSIONS: Record<ExpositionFormat, string> = { text: "0.0.4", openmetrics: "1.0.0" };

function formatOf(mediaRange: string): ExpositionFormat | undefined {
  if (mediaRange === "application/openmetrics-text") return "openmetrics";
  if (mediaRange === "text/plain" || mediaRange === "*/*" || mediaRange === "text/*") return "text";
  return undefined;
}

/** Picks OpenMetrics when it is acceptable with a quality at least that of every text/plain entry. */
export function negotiateFormat(accept: string | undefined | null): ExpositionFormat {
  if (!accept) return "text";
  const best: Record<ExpositionFormat, number> = { text: -1, openmetrics: -1 };
  for (const part of accept.split(",")) {
    const [mediaRange = "", ...rawParams] = part.trim().split(";").map((s) => s.trim());
    const format = formatOf(mediaRange.toLowerCase());
    if (format === undefined) continue;
    const params = new Map<string, string>();
    for (const param of rawParams) {
      const eq = param.indexOf("=");
      if (eq > 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1"));
    }
    const version = params.get("version");
    // Wildcards carry no version of ours; a named type only the one we write.
    if (version !== undefined && mediaRange.includes("/*") === false && version !== VERSIONS[format]) continue;
    const qParam = params.get("q");
    const q = qParam === undefined ? 1 : Number(qParam);
    if (!Number.isFinite(q)) continue;
    best[format] = Math.max(best[format], q);
  }
  return best.openmetrics > 0 && best.openmetrics >= best.text ? "openmetrics" : "text";
}
