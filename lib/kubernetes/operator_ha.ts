/**
 * The overlay `deploy/kubernetes/overlays/operator-ha/`: the base plus an HA
 * pair of Prometheus and a two-member Alertmanager cluster, run by the
 * Prometheus Operator (for a cluster without kube-prometheus-stack). The
 * operator gives each Prometheus replica the external label `replica`
 * (the name this stack's dedup story uses) and drops it from alerts, and
 * joins the Alertmanager pods in one gossip cluster. Written by
 * `commands/build/kubernetes.ts` with the base; validated by its test.
 *
 * @example
 * ```ts
 * import { operatorHaFiles } from "./operator_ha.ts";
 * Object.keys(operatorHaFiles()); // ["prometheus-ha.yaml", "kustomization.yaml"]
 * ```
 * @module
 */
import { toYaml } from "../alerts/rules.ts";
import { RETENTION } from "../stack/prometheus_flags.ts";
import { CONTAINER_SECURITY_CONTEXT, MONITORING_NAMESPACE, type ManifestFile, manifestFileYaml } from "./manifests.ts";

/** Where the overlay is written, relative to the repository root. */
export const OPERATOR_HA_DIR = "deploy/kubernetes/overlays/operator-ha";
/** The Secret the Alertmanager CR reads its configuration from (key `alertmanager.yaml`). */
export const ALERTMANAGER_CONFIG_SECRET = "etl-alertmanager-config";

type Obj = Record<string, unknown>;
const PART_OF = { "app.kubernetes.io/part-of": "etl-monitoring" };
/** What both servers run as: the images' `nobody`, non-root, read-only root file system. */
const securityContext = { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } };
const meta = (name: string) => ({ name, labels: { ...PART_OF } });

/** Only what service discovery in its own namespace needs. */
function rbac(): Obj[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("etl-prometheus"), automountServiceAccountToken: true },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta("etl-prometheus"),
      rules: [
        { apiGroups: [""], resources: ["services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta("etl-prometheus"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "etl-prometheus" },
      subjects: [{ kind: "ServiceAccount", name: "etl-prometheus" }],
    },
  ];
}

function prometheus(): Obj {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "Prometheus",
    metadata: meta("etl"),
    spec: {
      replicas: 2,
      replicaExternalLabelName: "replica",
      externalLabels: { stack: "etl-monitoring" },
      serviceAccountName: "etl-prometheus",
      serviceMonitorSelector: { matchLabels: { ...PART_OF } },
      ruleSelector: { matchLabels: { ...PART_OF } },
      retention: RETENTION.time,
      retentionSize: RETENTION.size,
      alerting: { alertmanagers: [{ name: "etl-alertmanager", port: "web" }] },
      // The two replicas on different nodes, so one node's loss leaves one.
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{
            weight: 100,
            podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "app.kubernetes.io/instance": "etl", "app.kubernetes.io/name": "prometheus" } } },
          }],
        },
      },
      securityContext,
      containers: [{ name: "prometheus", securityContext: CONTAINER_SECURITY_CONTEXT }],
      resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
    },
  };
}

function alertmanager(): Obj[] {
  return [
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Alertmanager",
      metadata: meta("etl"),
      spec: {
        replicas: 2,
        configSecret: ALERTMANAGER_CONFIG_SECRET,
        retention: "120h",
        securityContext,
        containers: [{ name: "alertmanager", securityContext: CONTAINER_SECURITY_CONTEXT }],
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } },
      },
    },
    {
      // Both Prometheus replicas send every alert to every pod behind it (the operator resolves the endpoints).
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("etl-alertmanager"),
      spec: { selector: { "app.kubernetes.io/name": "alertmanager", alertmanager: "etl" }, ports: [{ name: "web", port: 9093, targetPort: "web", protocol: "TCP" }] },
    },
  ];
}

/** The overlay's files by name. */
export function operatorHaFiles(): Record<string, string> {
  const file: ManifestFile = {
    file: "prometheus-ha.yaml",
    comment: "An HA pair of Prometheus (external label replica) and a two-member Alertmanager cluster, run by the Prometheus Operator.",
    objects: [...rbac(), prometheus(), ...alertmanager()],
  };
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    // The base's NetworkPolicy lets Prometheus pods of this namespace scrape.
    namespace: MONITORING_NAMESPACE,
    resources: ["../../base", file.file],
  };
  return {
    [file.file]: manifestFileYaml(file),
    "kustomization.yaml": toYaml(kustomization, "Generated from lib/kubernetes/operator_ha.ts by commands/build/kubernetes.ts (npm run build:kubernetes); do not edit."),
  };
}

/** The overlay's objects, for the tests. */
export function operatorHaObjects(): Obj[] {
  return [...rbac(), prometheus(), ...alertmanager()];
}
