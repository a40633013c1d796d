/**
 * Reading PromQL offline with Prometheus's own Lezer grammar
 * (`@prometheus-io/lezer-promql`, the one its web UI uses): syntax errors,
 * and every series selector with what encloses it, which is what the lint
 * rules need (is this counter inside `rate`? which range does it use?).
 *
 * The grammar checks syntax, not types: `rate(up)` parses. Types are
 * checked by `promtool check rules` and by the live test against Prometheus.
 *
 * @example
 * ```ts
 * import { promqlSyntaxErrors, selectorsOf } from "./promql_ast.ts";
 * promqlSyntaxErrors("sum(rate(x[5m])"); // [{ from: 15, … }]
 * selectorsOf("sum(rate(x_total[5m]))")[0]!.rangeFunction; // "rate"
 * ```
 * @module
 */
import { parser } from "@prometheus-io/lezer-promql";

// Lezer's node type, named through the parser so no transitive package is imported.
type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/**
 * Where the grammar could not go on.
 *
 * @example
 * ```ts
 * const e: PromqlSyntaxError = { from: 3, to: 4, near: "sum(rate(x[5m])" };
 * ```
 */
export interface PromqlSyntaxError {
  from: number;
  to: number;
  /** Up to 20 characters either side of the error, for the message. */
  near: string;
}

/**
 * The syntax errors of `expr`; empty when it parses. An empty expression is
 * an error too.
 *
 * @example
 * ```ts
 * promqlSyntaxErrors('up{job="x"}'); // []
 * promqlSyntaxErrors("up{job=}").length > 0; // true
 * ```
 */
export function promqlSyntaxErrors(expr: string): PromqlSyntaxError[] {
  if (expr.trim() === "") return [{ from: 0, to: 0, near: "" }];
  const errors: PromqlSyntaxError[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) {
        errors.push({ from: node.from, to: node.to, near: expr.slice(Math.max(0, node.from - 20), node.to + 20) });
      }
    },
  });
  return errors;
}

/**
 * One label matcher of a selector.
 *
 * @example
 * ```ts
 * const m: LabelMatcher = { name: "job", op: "=", value: "etl-metrics" };
 * ```
 */
export interface LabelMatcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/**
 * A series selector as it is used in an expression.
 *
 * @example
 * ```ts
 * const use: SelectorUse = {
 *   text: "x_total[5m]", metric: "x_total", matchers: [], range: "5m",
 *   rangeFunction: "rate", enclosingFunctions: ["rate", "sum"],
 * };
 * ```
 */
export interface SelectorUse {
  /** The selector's text, with its range when it has one. */
  text: string;
  /** The metric name, when written before the braces. */
  metric: string | undefined;
  matchers: LabelMatcher[];
  /** The range of a range-vector selector (`5m` in `x[5m]`). */
  range: string | undefined;
  /** The function the range vector is the argument of (`rate` in `rate(x[5m])`). */
  rangeFunction: string | undefined;
  /** Functions and aggregations enclosing the selector, innermost first. */
  enclosingFunctions: string[];
}

// PromQL string literals: "…" and '…' with Go escapes, `…` raw.
function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === "`") return body;
  const asJson = quote === '"' ? body : body.replace(/\\'/g, "'").replace(/"/g, '\\"');
  return JSON.parse(`"${asJson}"`) as string;
}

function childOf(node: SyntaxNode, name: string): SyntaxNode | null {
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.name === name) return c;
  return null;
}

function matchersOf(selector: SyntaxNode, text: (n: SyntaxNode) => string): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  const list = childOf(selector, "LabelMatchers");
  if (list === null) return out;
  for (let m = list.firstChild; m !== null; m = m.nextSibling) {
    if (m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher") continue;
    const label = childOf(m, "LabelName") ?? childOf(m, "QuotedLabelName");
    const op = childOf(m, "MatchOp");
    const value = childOf(m, "StringLiteral");
    if (label === null || op === null || value === null) continue;
    const name = label.name === "QuotedLabelName" ? unquote(text(label)) : text(label);
    out.push({ name, op: text(op) as LabelMatcher["op"], value: unquote(text(value)) });
  }
  return out;
}

/**
 * Every series selector of `expr`, in order, with what encloses it. `expr`
 * must parse (see {@linkcode promqlSyntaxErrors}); with errors the result
 * is whatever the grammar recovered.
 *
 * @example
 * ```ts
 * const [s] = selectorsOf('increase(etl_failures_total{job="etl-metrics"}[1h])');
 * s!.metric; // "etl_failures_total"
 * s!.range; // "1h"
 * s!.rangeFunction; // "increase"
 * ```
 */
export function selectorsOf(expr: string): SelectorUse[] {
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  const out: SelectorUse[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (ref) => {
      if (ref.name !== "VectorSelector") return;
      const node = ref.node;
      const metricNode = childOf(node, "Identifier");
      let range: string | undefined;
      let rangeFunction: string | undefined;
      let outer: SyntaxNode = node;
      const parent = node.parent;
      if (parent !== null && parent.name === "MatrixSelector") {
        const duration = childOf(parent, "DurationExpr") ?? parent.lastChild;
        range = duration === null ? undefined : text(duration);
        outer = parent;
        // A range vector is an argument when its parent is the call's body.
        const body = parent.parent;
        if (body !== null && body.name === "FunctionCallBody" && body.parent?.name === "FunctionCall") {
          const id = childOf(body.parent, "FunctionIdentifier");
          rangeFunction = id === null ? undefined : text(id);
        }
      }
      const enclosingFunctions: string[] = [];
      for (let a = outer.parent; a !== null; a = a.parent) {
        if (a.name === "FunctionCall") {
          const id = childOf(a, "FunctionIdentifier");
          if (id !== null) enclosingFunctions.push(text(id));
        } else if (a.name === "AggregateExpr") {
          const op = childOf(a, "AggregateOp");
          if (op !== null) enclosingFunctions.push(text(op));
        }
      }
      out.push({
        text: text(outer),
        metric: metricNode === null ? undefined : text(metricNode),
        matchers: matchersOf(node, text),
        range,
        rangeFunction,
        enclosingFunctions,
      });
    },
  });
  return out;
}
