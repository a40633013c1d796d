/**
 * Alert annotations as a tiny template tree: one definition renders to the
 * Go template text Prometheus evaluates, and to the exact string Prometheus
 * would produce for given labels and value, which is what the promtool unit
 * tests must list in `exp_annotations` (promtool compares annotations
 * verbatim). Only the few constructs the rules use exist, so the port of
 * Prometheus's formatting stays small enough to trust; promtool checks it.
 *
 * @example
 * ```ts
 * import { label, renderTemplate, template, toGoTemplate, value } from "./template.ts";
 * const t = template`Pipeline ${label("pipeline")} idle for ${value("duration")}.`;
 * toGoTemplate(t); // "Pipeline {{ $labels.pipeline }} idle for {{ $value | humanizeDuration }}."
 * renderTemplate(t, { labels: { pipeline: "orders" }, value: 615 }); // "Pipeline orders idle for 10m 15s."
 * ```
 * @module
 */

/** How `$value` is printed. */
export type ValueFormat = "duration" | `fixed${0 | 1 | 2 | 3}`;

/** One piece of a template. */
export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "label"; name: string }
  | { kind: "value"; format: ValueFormat }
  | { kind: "ifLabel"; name: string; then: TemplatePart[]; else: TemplatePart[] };

/** A template: a list of parts. */
export type Template = TemplatePart[];

/** What a template is rendered against: the alert's labels and the expression's value. */
export interface TemplateData {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * `{{ $labels.name }}`.
 *
 * @example
 * ```ts
 * toGoTemplate([label("job")]); // "{{ $labels.job }}"
 * ```
 */
export function label(name: string): TemplatePart {
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`not a label name: ${name}`);
  return { kind: "label", name };
}

/**
 * `$value`, as a duration (`humanizeDuration`: "10m 15s", "52.5s") or with a
 * fixed number of decimals (`printf "%.2f"`).
 *
 * @example
 * ```ts
 * toGoTemplate([value("fixed2")]); // '{{ printf "%.2f" $value }}'
 * ```
 */
export function value(format: ValueFormat): TemplatePart {
  return { kind: "value", format };
}

/**
 * `{{ if $labels.name }}…{{ else }}…{{ end }}`: an empty or missing label is false.
 *
 * @example
 * ```ts
 * ifLabel("instance", template`at ${label("instance")}`, template`with no target`);
 * ```
 */
export function ifLabel(name: string, then: Template, otherwise: Template): TemplatePart {
  label(name); // validates the name
  return { kind: "ifLabel", name, then, else: otherwise };
}

/**
 * Tagged template literal: text with parts, whole templates, strings or
 * numbers interpolated (strings and numbers are plain text).
 *
 * @example
 * ```ts
 * template`Job ${label("job")} is down`.length; // 3
 * ```
 */
export function template(
  strings: TemplateStringsArray,
  ...parts: Array<TemplatePart | Template | string | number>
): Template {
  const out: Template = [];
  const text = (t: string) => {
    if (t === "") return;
    // Adjacent text merges, so a template reads as the Go text it becomes.
    const last = out[out.length - 1];
    if (last?.kind === "text") out[out.length - 1] = { kind: "text", text: last.text + t };
    else out.push({ kind: "text", text: t });
  };
  strings.forEach((literal, i) => {
    text(literal);
    const part = parts[i];
    if (part === undefined) return;
    if (typeof part === "string" || typeof part === "number") text(String(part));
    else for (const p of Array.isArray(part) ? part : [part]) p.kind === "text" ? text(p.text) : out.push(p);
  });
  return out;
}

/**
 * The Go template text for Prometheus. Literal `{{` in text is refused
 * rather than escaped: no annotation needs it.
 *
 * @example
 * ```ts
 * toGoTemplate(template`p=${label("pipeline")}`); // "p={{ $labels.pipeline }}"
 * ```
 */
export function toGoTemplate(t: Template): string {
  return t
    .map((part) => {
      switch (part.kind) {
        case "text":
          if (part.text.includes("{{") || part.text.includes("}}")) throw new Error(`braces in template text: ${part.text}`);
          return part.text;
        case "label":
          return `{{ $labels.${part.name} }}`;
        case "value":
          return part.format === "duration"
            ? "{{ $value | humanizeDuration }}"
            : `{{ printf "%.${part.format.slice(5)}f" $value }}`;
        case "ifLabel":
          return `{{ if $labels.${part.name} }}${toGoTemplate(part.then)}{{ else }}${toGoTemplate(part.else)}{{ end }}`;
      }
    })
    .join("");
}

/**
 * What Prometheus renders for `data` (Go's number formatting, ties included).
 *
 * @example
 * ```ts
 * renderTemplate(template`${value("fixed1")}/s`, { labels: {}, value: 0.625 }); // "0.6/s"
 * ```
 */
export function renderTemplate(t: Template, data: TemplateData): string {
  return t
    .map((part) => {
      switch (part.kind) {
        case "text":
          return part.text;
        case "label":
          return data.labels[part.name] ?? "";
        case "value":
          return part.format === "duration" ? humanizeDuration(data.value) : goFixed(data.value, Number(part.format.slice(5)));
        case "ifLabel":
          return renderTemplate((data.labels[part.name] ?? "") !== "" ? part.then : part.else, data);
      }
    })
    .join("");
}

/**
 * Go's `%.{decimals}f`. JavaScript's `toFixed` rounds the exact binary value
 * like Go does, except on an exact tie (52.5 to no decimals), where Go
 * rounds half to even and `toFixed` away from zero.
 *
 * @example
 * ```ts
 * goFixed(52.5, 0); // "52"
 * goFixed(0.595, 2); // "0.59" (0.595 is a little under in binary)
 * ```
 */
export function goFixed(v: number, decimals: number): string {
  const text = v.toFixed(decimals);
  const scaled = Math.abs(v) * 2 ** (decimals + 1); // exact: a power of two
  // A tie is v·10^d = m + 1/2, i.e. |v|·2^(d+1) an odd integer.
  if (!Number.isSafeInteger(scaled) || scaled % 2 !== 1) return text;
  const negative = text.startsWith("-");
  const digits = text.replace("-", "").replace(".", "");
  if (Number(digits.at(-1)) % 2 === 0) return text;
  const down = (BigInt(digits) - 1n).toString().padStart(decimals + 1, "0");
  const whole = down.slice(0, down.length - decimals);
  const fraction = decimals > 0 ? `.${down.slice(down.length - decimals)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/**
 * Go's `%.4g` for finite numbers in the range the templates print (no
 * exponent form is needed below 1e4, where humanizeDuration switches to minutes).
 */
function goG4(v: number): string {
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs >= 1e-4 && abs < 1e4) return String(Number(goFixed(v, Math.max(0, 3 - Math.floor(Math.log10(abs))))));
  // Go's exponent form: mantissa without trailing zeros, exponent with sign and ≥ 2 digits.
  const [mantissa, exponent] = v.toExponential(3).split("e") as [string, string];
  const m = String(Number(mantissa));
  const e = Number(exponent);
  return `${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/**
 * A port of Prometheus's `humanizeDuration` template function.
 *
 * @example
 * ```ts
 * humanizeDuration(615); // "10m 15s"
 * humanizeDuration(52.5); // "52.5s"
 * humanizeDuration(0.25); // "250ms"
 * ```
 */
export function humanizeDuration(seconds: number): string {
  let v = seconds;
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v === 0) return "0s";
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? "-" : "";
    v = Math.abs(v);
    const whole = Math.trunc(v);
    const s = whole % 60;
    const m = Math.trunc(whole / 60) % 60;
    const h = Math.trunc(whole / 3600) % 24;
    const d = Math.trunc(whole / 86_400);
    if (d !== 0) return `${sign}${d}d ${h}h ${m}m ${s}s`;
    if (h !== 0) return `${sign}${h}h ${m}m ${s}s`;
    if (m !== 0) return `${sign}${m}m ${s}s`;
    return `${sign}${goG4(v)}s`;
  }
  let prefix = "";
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${goG4(v)}${prefix}s`;
}
