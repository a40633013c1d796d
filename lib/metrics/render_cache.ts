/**
 * Renders a scrape at most once per second per format while nothing has been
 * read: with 50 scrapers, or 32,000 series, most scrapes then cost a lookup.
 * A body is reused only within the second (of `nowMs`) it was made in, for
 * the same state object, catalog, process families and exporter facts, and the same
 * counts of lines and bytes read (deadlines passing and pipelines retiring
 * change with the clock, so the second in the key bounds them); every fold of a line counts one of those,
 * so a new line shows in the very next scrape, and time-based gauges are
 * correct to the second scraped. Meant for the exporter's state, which only
 * the reading of lines changes; a source whose state changes otherwise must
 * render through {@link ./render.ts} directly. A body made afresh is made by
 * {@link ./incremental_render.ts}: only the pipelines that changed, and the
 * clock's families, are written again.
 *
 * @example
 * ```ts
 * import { perSecondRenderer } from "./render_cache.ts";
 * const render = perSecondRenderer();
 * const { body } = render(snapshot, "text", processFamilies);
 * ```
 * @module
 */
import type { IngestState } from "../etl/state.ts";
import type { Snapshot } from "../etl/snapshot.ts";
import type { Family } from "./family.ts";
import type { ExpositionFormat } from "./negotiate.ts";
import { incrementalRenderer, type IncrementalRenderer } from "./incremental_render.ts";
import { CONTENT_TYPES } from "./negotiate.ts";
import type { RenderedMetrics } from "./render.ts";

/** Renders like `renderMetrics`, reusing the body of the same second when nothing changed. */
export type ScrapeRenderer = (snapshot: Snapshot, format: ExpositionFormat, processFamilies?: readonly Family[]) => RenderedMetrics;

interface Rendered {
  key: string;
  state: IngestState;
  catalog: Snapshot["catalog"];
  processFamilies: readonly Family[];
  rendered: RenderedMetrics;
}

// Small values only: the lines by result (whatever results there are), bytes and the facts.
function changeKey(snapshot: Snapshot): string {
  const { state } = snapshot;
  return JSON.stringify([Math.floor(snapshot.nowMs / 1000), state.bytesRead, state.lines, state.errorTypesFolded, snapshot.ready, snapshot.exporter ?? null]);
}

const NO_FAMILIES: readonly Family[] = [];

/** Makes a renderer holding the last body of each format. */
export function perSecondRenderer(): ScrapeRenderer {
  const last = new Map<ExpositionFormat, Rendered>();
  const renderers = new Map<ExpositionFormat, IncrementalRenderer>();
  return (snapshot, format, processFamilies = NO_FAMILIES) => {
    const key = changeKey(snapshot);
    const hit = last.get(format);
    if (hit !== undefined && hit.key === key && hit.state === snapshot.state && hit.catalog === snapshot.catalog && hit.processFamilies === processFamilies) return hit.rendered;
    let render = renderers.get(format);
    if (render === undefined) renderers.set(format, (render = incrementalRenderer(format)));
    const rendered = { contentType: CONTENT_TYPES[format], body: render(snapshot, processFamilies) };
    last.set(format, { key, state: snapshot.state, catalog: snapshot.catalog, processFamilies, rendered });
    return rendered;
  };
}
