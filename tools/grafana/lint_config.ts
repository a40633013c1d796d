/**
 * How the dashboard test lints `lib/dashboard/dashboard.ts`: the findings
 * the dashboard keeps on purpose, each with its reason, and the exporter's
 * job required on every selector. Test configuration, so it lives with the
 * linter rather than in the product's sources.
 *
 * @module
 */
import { EXPORTER_JOB } from "../../lib/dashboard/promql.ts";
import type { LintException, LintOptions } from "./lint.ts";

/**
 * The linter findings the dashboard keeps on purpose, each with its reason
 * (the panels' descriptions say the same to the reader). The lint test
 * fails on any other finding, and on an exception that excuses nothing.
 */
export const LINT_EXCEPTIONS: readonly LintException[] = [
  {
    rule: "target-rate-interval-rule",
    panel: "Processing Activity (5-minute increments)",
    reason: "the fixed [5m] window is what the panel shows (its title); $__rate_interval would change it with the zoom",
  },
  {
    rule: "target-counter-agg-rule",
    panel: "Cumulative Counts",
    reason: "plots the running totals on purpose: the exporter keeps its counters across restarts (checkpoint), so they are the pipelines' history",
  },
];

/**
 * How the lint test reads the dashboard: the exceptions above, and the
 * exporter's job required on every selector. That replaces the linter's
 * `$job`/`$instance` variables (template-job-rule, template-instance-rule):
 * the simulator serves the same families under another job, so a job
 * choice could only double-count, and one exporter serves every pipeline,
 * which the pipeline variable already selects. `ALERTS` is exempt: each
 * alert carries its own rule's labels (EtlMetricsEndpointDown is about the
 * simulator's job too).
 */
export const LINT_OPTIONS: LintOptions = { exceptions: LINT_EXCEPTIONS, requiredJob: EXPORTER_JOB, jobExempt: ["ALERTS"] };

