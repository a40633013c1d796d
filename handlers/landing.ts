/**
 * `GET /`: a landing page linking to the endpoints, as Prometheus exporters have.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { landingHandler } from "./landing.ts";
 * const app = new Hono().get("/", landingHandler({ title: "ETL exporter", links: [["/metrics", "Metrics"]] }));
 * ```
 * @module
 */
import type { Handler } from "hono";

/** What the page shows. */
export interface LandingPage {
  title: string;
  description?: string;
  links: ReadonlyArray<readonly [href: string, label: string]>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

/** The page as HTML, every text escaped. */
export function landingPageHtml(page: LandingPage): string {
  const items = page.links
    .map(([href, label]) => `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a> <code>${escapeHtml(href)}</code></li>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title></head>
<body><h1>${escapeHtml(page.title)}</h1>
${page.description ? `<p>${escapeHtml(page.description)}</p>` : ""}
<ul>
${items}
</ul></body></html>
`;
}

/** Renders the page once; the handler serves the same bytes every time. */
export function landingHandler(page: LandingPage): Handler {
  const html = landingPageHtml(page);
  return (c) => c.html(html);
}
