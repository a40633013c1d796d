// The mixin for jsonnet users (jsonnet-bundler, kube-prometheus): it loads the
// generated files beside it, so there is one source (lib/ in TypeScript).
// Written by hand; needs jsonnet >= 0.18 for std.parseYaml. Not evaluated in
// this repository's tests (no jsonnet here); the YAML and JSON files are.
{
  _config+:: import 'config.json',
  prometheusAlerts+:: std.parseYaml(importstr 'prometheus_alerts.yaml'),
  prometheusRules+:: std.parseYaml(importstr 'prometheus_rules.yaml'),
  grafanaDashboards+:: {
    'etl-monitoring.json': import 'dashboards_out/etl-monitoring.json',
  },
}
