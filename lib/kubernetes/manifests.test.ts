import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { RULES_PATH } from "../alerts/rules.ts";
import { DASHBOARD_PATH } from "../dashboard/dashboard.ts";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Alertmanager } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Alertmanager";
import { Prometheus } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Prometheus";
import { OPERATOR_HA_DIR, operatorHaFiles } from "./operator_ha.ts";
import { CONTAINER_SECURITY_CONTEXT, INGEST, KUBERNETES_BASE_DIR, kubernetesBaseFiles, kubernetesManifests, PORTS, SECRETS } from "./manifests.ts";

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

/** Every kind the base holds, with the model that validates it against the published schema. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "batch/v1/CronJob": CronJob,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
  "v1/ServiceAccount": ServiceAccount,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "monitoring.coreos.com/v1/Prometheus": Prometheus,
  "monitoring.coreos.com/v1/Alertmanager": Alertmanager,
};

/** The objects of the committed base, parsed from its files as kubectl would. */
function committedObjects(): Obj[] {
  const kustomization = parse(readFileSync(join(KUBERNETES_BASE_DIR, "kustomization.yaml"), "utf8")) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(KUBERNETES_BASE_DIR, file), "utf8")).map((d) => {
      expect(d.errors, file).toEqual([]);
      return d.toJS() as Obj;
    })
  );
}
const byKind = (kind: string) => committedObjects().filter((o) => o.kind === kind);
const podSpecs = () => [
  ...byKind("Deployment").map((d) => ({ name: d.metadata.name, spec: d.spec.template.spec })),
  ...byKind("CronJob").map((c) => ({ name: c.metadata.name, spec: c.spec.jobTemplate.spec.template.spec })),
];

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const hasKubectl = spawnSync("kubectl", ["version", "--client"]).status === 0;
const required = process.env.CI === "true";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("deploy/kubernetes/base", () => {
  it("is current (run `npm run build:kubernetes` after changing the rules, the dashboard or lib/kubernetes/)", () => {
    const expected = kubernetesBaseFiles();
    expect(readdirSync(KUBERNETES_BASE_DIR).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) expect(readFileSync(join(KUBERNETES_BASE_DIR, file), "utf8"), file).toBe(text);
  });

  it("validates every object against the published Kubernetes and Prometheus Operator schemas", () => {
    const objects = committedObjects();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Deployment/etl-metrics", "Service/etl-metrics",
      "Deployment/etl-simulator", "Service/etl-simulator",
      "ServiceMonitor/etl-metrics", "ServiceMonitor/etl-simulator",
      "PrometheusRule/etl-alerts",
      "ConfigMap/etl-monitoring-dashboard",
      "CronJob/etl-nightly-batch",
      "NetworkPolicy/etl-default-deny", "NetworkPolicy/etl-allow-prometheus", "NetworkPolicy/etl-allow-push", "NetworkPolicy/etl-push-client-egress",
    ]);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(() => new Model!(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it("has validation that can fail: a wrong type, a bad duration and an unknown relabel action are rejected", () => {
    const deployment = structuredClone(byKind("Deployment")[0]!);
    deployment.spec.replicas = "one";
    expect(() => new Deployment(deployment as never).validate()).toThrow(/replicas/);
    const monitor = structuredClone(byKind("ServiceMonitor")[0]!);
    monitor.spec.endpoints[0].interval = "15 seconds";
    expect(() => new ServiceMonitor(monitor as never).validate()).toThrow(/interval/);
    monitor.spec.endpoints[0].interval = "15s";
    monitor.spec.endpoints[0].relabelings[0].action = "rename";
    expect(() => new ServiceMonitor(monitor as never).validate()).toThrow(/action/);
  });

  it("holds in its PrometheusRule exactly the groups of prometheus/rules/etl-alerts.yml", () => {
    const [rule] = byKind("PrometheusRule");
    const published = parse(readFileSync(RULES_PATH, "utf8")) as { groups: unknown[] };
    expect(rule!.spec.groups).toEqual(published.groups);
    expect(rule!.spec.groups.length).toBeGreaterThan(0);
  });

  it("ships the committed dashboard in a ConfigMap labelled for Grafana's sidecar", () => {
    const [cm] = byKind("ConfigMap");
    expect(cm!.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(cm!.data).toEqual({ "etl-monitoring.json": readFileSync(DASHBOARD_PATH, "utf8") });
    // The API server refuses ConfigMaps over 1 MiB.
    expect(Buffer.byteLength(cm!.data!["etl-monitoring.json"]!)).toBeLessThan(1024 * 1024);
  });

  it("runs every container non-root, read-only, without privilege escalation or capabilities, with resources", () => {
    const specs = podSpecs();
    expect(specs.map((s) => s.name)).toEqual(["etl-metrics", "etl-simulator", "etl-nightly-batch"]);
    for (const { name, spec } of specs) {
      expect(spec.securityContext.runAsNonRoot, name).toBe(true);
      expect(spec.securityContext.runAsUser, name).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken, name).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext, `${name}/${c.name}`).toEqual(CONTAINER_SECURITY_CONTEXT);
        expect(c.securityContext.capabilities.drop).toEqual(["ALL"]);
        expect(Object.keys(c.resources.limits).sort(), `${name}/${c.name}`).toEqual(["cpu", "memory"]);
        expect(Object.keys(c.resources.requests).sort(), `${name}/${c.name}`).toEqual(["cpu", "memory"]);
      }
    }
  });

  it("probes every server on /-/healthy and /-/ready, on a port it declares", () => {
    const servers = byKind("Deployment").flatMap((d) => d.spec.template.spec.containers as any[]);
    expect(servers.map((c) => c.name)).toEqual(["etl-metrics", "etl-simulator", "etl-metrics"]);
    for (const c of servers) {
      expect(c.livenessProbe.httpGet.path).toBe("/-/healthy");
      expect(c.readinessProbe.httpGet.path).toBe("/-/ready");
      expect(c.ports.map((p: { name: string }) => p.name)).toContain(c.livenessProbe.httpGet.port);
    }
  });

  it("writes only to mounted volumes, and shares one emptyDir between the job and its exporter sidecar", () => {
    const sidecar = byKind("Deployment").find((d) => d.metadata.name === "etl-simulator")!.spec.template.spec;
    const dataMounts = sidecar.containers.map((c: any) => c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/data").name);
    expect(dataMounts).toEqual(["data", "data"]);
    expect(sidecar.volumes.find((v: { name: string }) => v.name === "data").emptyDir).toBeDefined();
    for (const { spec } of podSpecs()) {
      const volumes = new Set(spec.volumes.map((v: { name: string }) => v.name));
      for (const c of spec.containers) for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), m.name).toBe(true);
    }
  });

  it("takes every credential from a Kubernetes Secret, never from a literal", () => {
    const text = Object.values(kubernetesBaseFiles()).join("\n");
    expect(text).not.toMatch(/\$2[aby]\$/);
    const secretNames = new Set<string>();
    for (const { spec } of podSpecs()) {
      for (const v of spec.volumes) if (v.secret) secretNames.add(v.secret.secretName);
      for (const c of spec.containers) for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) secretNames.add(e.valueFrom.secretKeyRef.name);
    }
    for (const m of byKind("ServiceMonitor")) {
      const auth = m.spec.endpoints[0].basicAuth;
      if (auth) secretNames.add(auth.username.name).add(auth.password.name);
    }
    expect([...secretNames].sort()).toEqual(Object.values(SECRETS).sort());
    expect(committedObjects().some((o) => o.kind === "Secret")).toBe(false);
  });

  it("turns on the push endpoint for the exporter Deployment and points the CronJob at its Service", () => {
    const exporter = byKind("Deployment").find((d) => d.metadata.name === "etl-metrics")!.spec.template.spec.containers[0];
    expect(exporter.env).toContainEqual({ name: INGEST.env, value: "true" });
    const [cron] = byKind("CronJob");
    const container = cron!.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.env).toContainEqual({ name: "ETL_PUSH_URL", value: `http://etl-metrics:${PORTS.exporter.port}${INGEST.path}` });
  });

  it("gives the scraped targets the job names the alert rules select on", () => {
    const jobs = byKind("ServiceMonitor").map((m) => m.spec.endpoints[0].relabelings.find((r: { targetLabel: string }) => r.targetLabel === "job").replacement);
    expect(jobs).toEqual(["etl-metrics", "etl-simulator"]);
    const rules = readFileSync(RULES_PATH, "utf8");
    for (const job of jobs) expect(rules).toContain(`"${job}"`);
  });

  it("denies by default and opens only the scrape and push ports", () => {
    const policies = byKind("NetworkPolicy");
    expect(policies[0]!.spec).toEqual({ podSelector: { matchLabels: { "app.kubernetes.io/part-of": "etl-monitoring" } }, policyTypes: ["Ingress", "Egress"] });
    const ports = policies.flatMap((p) => [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])].flatMap((r: any) => r.ports.map((x: any) => x.port)));
    expect(new Set(ports)).toEqual(new Set([PORTS.exporter.name, PORTS.simulator.name, PORTS.exporter.port, 53]));
  });

  it("lists every file in kustomization.yaml", () => {
    expect(kubernetesManifests().map((f) => f.file).concat("kustomization.yaml").sort()).toEqual(readdirSync(KUBERNETES_BASE_DIR).sort());
  });
});

describe("deploy/kubernetes/overlays/operator-ha", () => {
  const objects = () => parseAllDocuments(readFileSync(join(OPERATOR_HA_DIR, "prometheus-ha.yaml"), "utf8")).map((d) => d.toJS() as Obj);

  it("is current, and every object validates", () => {
    const expected = operatorHaFiles();
    expect(readdirSync(OPERATOR_HA_DIR).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) expect(readFileSync(join(OPERATOR_HA_DIR, file), "utf8"), file).toBe(text);
    expect(objects().map((o) => o.kind)).toEqual(["ServiceAccount", "Role", "RoleBinding", "Prometheus", "Alertmanager", "Service"]);
    for (const o of objects()) expect(() => new MODELS[`${o.apiVersion}/${o.kind}`]!(o).validate(), o.kind).not.toThrow();
  });

  it("runs two Prometheus replicas labelled replica, selecting the base's monitors and rules, and two Alertmanagers", () => {
    const prometheus = objects().find((o) => o.kind === "Prometheus")!;
    expect(prometheus.spec).toMatchObject({ replicas: 2, replicaExternalLabelName: "replica", retention: "15d", retentionSize: "1GB" });
    const base = committedObjects();
    for (const kind of ["ServiceMonitor", "PrometheusRule"]) {
      for (const o of base.filter((x) => x.kind === kind)) expect(o.metadata.labels).toMatchObject(prometheus.spec.serviceMonitorSelector.matchLabels);
    }
    expect(prometheus.spec.ruleSelector).toEqual(prometheus.spec.serviceMonitorSelector);
    expect(objects().find((o) => o.kind === "Alertmanager")!.spec.replicas).toBe(2);
    for (const o of objects().filter((x) => x.kind === "Prometheus" || x.kind === "Alertmanager")) {
      expect(o.spec.securityContext.runAsNonRoot).toBe(true);
      expect(o.spec.containers[0].securityContext).toEqual(CONTAINER_SECURITY_CONTEXT);
    }
  });
});

describe.skipIf(!hasPromtool && !required)("promtool on the PrometheusRule's groups (apt-get install prometheus)", () => {
  it("passes `promtool check rules` on the groups taken out of the PrometheusRule", () => {
    const dir = mkdtempSync(join(tmpdir(), "etl-k8s-rules-"));
    dirs.push(dir);
    const [rule] = byKind("PrometheusRule");
    const file = join(dir, "from-prometheus-rule.json");
    writeFileSync(file, JSON.stringify({ groups: rule!.spec.groups }));
    const run = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(run.status).toBe(0);
  });
});

// kustomize is not a Debian package; kubectl (which embeds it) is present on some machines only.
describe.skipIf(!hasKubectl)("kubectl kustomize (when kubectl is installed)", () => {
  it("builds the base and the overlay into the same objects, the overlay with its namespace and labels", () => {
    const base = spawnSync("kubectl", ["kustomize", KUBERNETES_BASE_DIR], { encoding: "utf8" });
    expect(base.stderr).toBe("");
    const kinds = parseAllDocuments(base.stdout).map((d) => (d.toJS() as Obj).kind);
    expect(kinds.sort()).toEqual(committedObjects().map((o) => o.kind).sort());
    const overlay = spawnSync("kubectl", ["kustomize", "deploy/kubernetes/overlays/kube-prometheus-stack"], { encoding: "utf8" });
    expect(overlay.stderr).toBe("");
    const objects = parseAllDocuments(overlay.stdout).map((d) => d.toJS() as Obj & { metadata: { namespace?: string } });
    expect(objects).toHaveLength(kinds.length);
    for (const o of objects) {
      expect(o.metadata.namespace, o.metadata.name).toBe("etl");
      expect(o.metadata.labels?.release, o.metadata.name).toBe("kube-prometheus-stack");
    }
    const ha = spawnSync("kubectl", ["kustomize", OPERATOR_HA_DIR], { encoding: "utf8" });
    expect(ha.stderr).toBe("");
    const haKinds = parseAllDocuments(ha.stdout).map((d) => (d.toJS() as Obj).kind);
    expect(haKinds).toContain("Prometheus");
    expect(haKinds).toHaveLength(kinds.length + 6);
  });
});
