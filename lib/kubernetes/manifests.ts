/**
 * The Kubernetes manifests of `deploy/kubernetes/base/` (a kustomize base for
 * a cluster with the Prometheus Operator), as data. Written by
 * `commands/build/kubernetes.ts`; a test fails when the committed files are
 * stale, validates every object against the published schemas
 * (`kubernetes-models`) and runs promtool on the PrometheusRule's groups.
 *
 * The rules are {@linkcode alertRules} and the dashboard is
 * {@linkcode dashboardJson}: the same sources as `prometheus/rules/` and
 * `grafana/dashboards/`, so nothing here can drift from them.
 *
 * @example
 * ```ts
 * import { kubernetesManifests } from "./manifests.ts";
 * kubernetesManifests().map((f) => f.file); // ["exporter.yaml", …]
 * ```
 * @module
 */
import { alertRules, PRODUCTION_ALERT_PARAMS, toYaml } from "../alerts/rules.ts";
import { dashboardJson } from "../dashboard/dashboard.ts";
import { DASHBOARD_UID } from "../dashboard/dashboard.ts";

/** Where the base is written, relative to the repository root. */
export const KUBERNETES_BASE_DIR = "deploy/kubernetes/base";

/** The images, tagged as the Compose file builds them (push them to your registry and retag in an overlay). */
export const IMAGES = {
  exporter: "etl-monitoring/etl-metrics:0.1.0",
  simulator: "etl-monitoring/etl-simulator:0.1.0",
} as const;

/** The port names the ServiceMonitors select. */
export const PORTS = {
  exporter: { name: "http-metrics", port: 8083 },
  simulator: { name: "http-simulator", port: 8000 },
} as const;

/**
 * The push endpoint's switch and credential (the exporter's `--ingest`,
 * handlers/ingest.ts): a bearer token, of which the exporter holds only the SHA-256.
 */
export const INGEST = {
  env: "ETL_INGEST",
  tokenHashFileEnv: "ETL_INGEST_TOKEN_FILE",
  path: "/api/v1/events",
  tokenFile: "ingest_token",
  tokenHashFile: "ingest_token.sha256",
} as const;

/**
 * The Kubernetes Secrets the manifests read; none is committed. Make them
 * from the files of `npm run secrets` (deploy/kubernetes/README.md says how).
 */
export const SECRETS = {
  /** Keys `metrics_password.bcrypt`, `control_password.bcrypt`: the simulator's own endpoint. */
  simulator: "etl-simulator-credentials",
  /** Keys `username`, `password`: what Prometheus sends to the simulator's /metrics. */
  scrape: "etl-simulator-scrape",
  /** Key `ingest_token.sha256` for the exporter, `ingest_token` for pushing jobs (files of `npm run secrets`). */
  ingest: "etl-ingest-credentials",
} as const;

/** The node user of the images (deploy/compose/Dockerfile: `USER node`). */
const NODE_UID = 1000;
const PART_OF = { "app.kubernetes.io/part-of": "etl-monitoring" } as const;
/** Pods that may push to the exporter carry this label (the NetworkPolicy lets them in). */
export const PUSH_CLIENT_LABEL = { "etl-monitoring/push-client": "true" } as const;
/** Where the operator's Prometheus runs, for the NetworkPolicy; change it in an overlay. */
export const MONITORING_NAMESPACE = "monitoring";

type Obj = Record<string, unknown>;

/** One file of the base: a comment and its objects, one YAML document each. */
export interface ManifestFile {
  file: string;
  comment: string;
  objects: Obj[];
}

const labels = (name: string, component: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/component": component,
  ...PART_OF,
});

const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: NODE_UID,
  runAsGroup: NODE_UID,
  fsGroup: NODE_UID,
  seccompProfile: { type: "RuntimeDefault" },
};

/** Non-root, read-only root file system, no privilege escalation, no capabilities. */
export const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
};

const probes = (port: string) => ({
  livenessProbe: { httpGet: { path: "/-/healthy", port }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
  readinessProbe: { httpGet: { path: "/-/ready", port }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
});

/** The Compose file's limits (deploy/compose/docker-compose.yml), with requests below them. */
const resources = (cpu: string, memory: string) => ({
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu, memory },
});

const env = (vars: Record<string, string>) => Object.entries(vars).map(([name, value]) => ({ name, value }));

function exporterContainer(extraEnv: Record<string, string>, mounts: Obj[]): Obj {
  return {
    name: "etl-metrics",
    image: IMAGES.exporter,
    env: env({ ETL_HOST: "0.0.0.0", EXPORTER_PORT: String(PORTS.exporter.port), ETL_DATA_DIR: "/data", ...extraEnv }),
    ports: [{ name: PORTS.exporter.name, containerPort: PORTS.exporter.port, protocol: "TCP" }],
    ...probes(PORTS.exporter.name),
    resources: resources("1", "256Mi"),
    securityContext: CONTAINER_SECURITY_CONTEXT,
    volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "tmp", mountPath: "/tmp" }, ...mounts],
  };
}

const secretVolume = (name: string, secretName: string) => ({ name, secret: { secretName, defaultMode: 0o440 } });

/** Every pod of the base: non-root, no service-account token. */
const podSpec = (containers: Obj[], volumes: Obj[], extra: Obj = {}): Obj => ({
  ...extra,
  automountServiceAccountToken: false,
  securityContext: podSecurityContext,
  containers,
  volumes,
});

/** One replica: the counters live in the process (and its checkpoint); two would each count part of the events. */
function deployment(name: string, component: string, pod: Obj, extraSpec: Obj = {}): Obj {
  const l = labels(name, component);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: l },
    spec: {
      replicas: 1,
      ...extraSpec,
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: { metadata: { labels: l }, spec: pod },
    },
  };
}

function exporterDeployment(): Obj {
  const pod = podSpec(
    [exporterContainer(
      { [INGEST.env]: "true", [INGEST.tokenHashFileEnv]: `/run/secrets/etl/${INGEST.tokenHashFile}` },
      [{ name: "ingest-credentials", mountPath: "/run/secrets/etl", readOnly: true }],
    )],
    [
      // The checkpoint: an emptyDir survives container restarts, not
      // rescheduling (counters then restart at 0, which rate() handles).
      { name: "data", emptyDir: { sizeLimit: "1Gi" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      secretVolume("ingest-credentials", SECRETS.ingest),
    ],
  );
  // Recreate: never two exporters on one checkpoint during a rollout.
  return deployment("etl-metrics", "exporter", pod, { strategy: { type: "Recreate" } });
}

function service(name: string, component: string, ports: Array<{ name: string; port: number }>): Obj {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: labels(name, component) },
    spec: {
      selector: { "app.kubernetes.io/name": name },
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
    },
  };
}

function sidecarDeployment(): Obj {
  const simulator = {
    // The job that writes files: here the simulator; yours writes
    // the log contract to /data/logs/*.log the same way.
    name: "etl-simulator",
    image: IMAGES.simulator,
    env: env({
      ETL_HOST: "0.0.0.0",
      SIMULATOR_PORT: String(PORTS.simulator.port),
      ETL_DATA_DIR: "/data",
      ETL_METRICS_PASSWORD_FILE: "/run/secrets/etl/metrics_password.bcrypt",
      ETL_CONTROL_PASSWORD_FILE: "/run/secrets/etl/control_password.bcrypt",
    }),
    ports: [{ name: PORTS.simulator.name, containerPort: PORTS.simulator.port, protocol: "TCP" }],
    ...probes(PORTS.simulator.name),
    resources: resources("500m", "256Mi"),
    securityContext: CONTAINER_SECURITY_CONTEXT,
    volumeMounts: [
      { name: "data", mountPath: "/data" },
      { name: "tmp", mountPath: "/tmp" },
      { name: "simulator-credentials", mountPath: "/run/secrets/etl", readOnly: true },
    ],
  };
  const pod = podSpec(
    // The sidecar: the exporter tails the same emptyDir.
    [simulator, exporterContainer({}, [])],
    [
      { name: "data", emptyDir: { sizeLimit: "2Gi" } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      secretVolume("simulator-credentials", SECRETS.simulator),
    ],
  );
  return deployment("etl-simulator", "etl-job", pod);
}

/**
 * A ServiceMonitor whose targets get `job` (the alert rules select on it)
 * instead of the operator's default (the Service's name).
 */
function serviceMonitor(job: string, port: string, extra: Obj = {}): Obj {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: job, labels: { ...PART_OF } },
    spec: {
      selector: { matchLabels: { ...PART_OF } },
      endpoints: [{
        port,
        path: "/metrics",
        interval: `${PRODUCTION_ALERT_PARAMS.scrapeIntervalSeconds}s`,
        scrapeTimeout: "10s",
        relabelings: [{ action: "replace", targetLabel: "job", replacement: job }],
        ...extra,
      }],
    },
  };
}

/** The PrometheusRule: exactly the groups of `prometheus/rules/etl-alerts.yml`. */
export function prometheusRule(): Obj {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "etl-alerts", labels: { ...PART_OF } },
    spec: alertRules(),
  };
}

/** The dashboard as a ConfigMap that Grafana's dashboard sidecar picks up (label `grafana_dashboard: "1"`). */
export function dashboardConfigMap(): Obj {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "etl-monitoring-dashboard",
      labels: { grafana_dashboard: "1", ...PART_OF },
      // The folder, for a sidecar run with folderAnnotation=grafana_folder (kube-prometheus-stack's setting).
      annotations: { grafana_folder: "ETL" },
    },
    data: { [`${DASHBOARD_UID}.json`]: dashboardJson() },
  };
}

/** An example batch job: runs a nightly load and pushes its events to the exporter's push endpoint. */
function cronJob(): Obj {
  const l = { ...labels("etl-nightly-batch", "batch-job"), ...PUSH_CLIENT_LABEL };
  // Stands in for a real batch job: pushes the log contract's events of one
  // run as JSON lines, with the push token from the Secret (as a variable:
  // the job then needs no file system of its own).
  const script = [
    "const token = process.env.ETL_INGEST_TOKEN;",
    "const run = 'nightly-' + Date.now();",
    "const at = () => new Date().toISOString();",
    "const ev = (e) => JSON.stringify({ v: 1, ts: at(), level: 'info', pipeline: 'nightly-batch', run_id: run, ...e });",
    "const body = [ev({ event: 'etl_started' }), ev({ event: 'file_processed', file: 'orders.csv', records: 1200, duration_ms: 5300 })].join('\\n') + '\\n';",
    `fetch(process.env.ETL_PUSH_URL, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', authorization: 'Bearer ' + token } })`,
    "  .then((r) => { console.log('push', r.status); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(e); process.exit(1); });",
  ].join("\n");
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "etl-nightly-batch", labels: l },
    spec: {
      schedule: "30 2 * * *",
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 600,
          template: {
            metadata: { labels: l },
            spec: podSpec(
              [{
                name: "batch",
                image: IMAGES.exporter,
                command: ["node", "-e", script],
                env: [
                  ...env({ ETL_PUSH_URL: `http://etl-metrics:${PORTS.exporter.port}${INGEST.path}` }),
                  { name: "ETL_INGEST_TOKEN", valueFrom: { secretKeyRef: { name: SECRETS.ingest, key: INGEST.tokenFile } } },
                ],
                resources: resources("250m", "128Mi"),
                securityContext: CONTAINER_SECURITY_CONTEXT,
              }],
              [],
              { restartPolicy: "Never" },
            ),
          },
        },
      },
    },
  };
}

/** Deny everything to and from the stack's pods, then let in only Prometheus's scrapes and the pushing jobs. */
function networkPolicies(): Obj[] {
  const policy = (name: string, spec: Obj): Obj => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, labels: { ...PART_OF } },
    spec,
  });
  const tcp = (port: string | number) => ({ protocol: "TCP", port });
  const dns = { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] };
  return [
    policy("etl-default-deny", { podSelector: { matchLabels: { ...PART_OF } }, policyTypes: ["Ingress", "Egress"] }),
    policy("etl-allow-prometheus", {
      podSelector: { matchLabels: { ...PART_OF } },
      policyTypes: ["Ingress"],
      ingress: [{
        from: [{
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
        }],
        ports: [tcp(PORTS.exporter.name), tcp(PORTS.simulator.name)],
      }],
    }),
    policy("etl-allow-push", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "etl-metrics" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { ...PUSH_CLIENT_LABEL } } }], ports: [tcp(PORTS.exporter.name)] }],
    }),
    policy("etl-push-client-egress", {
      podSelector: { matchLabels: { ...PUSH_CLIENT_LABEL } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "etl-metrics" } } }], ports: [tcp(PORTS.exporter.port)] }, dns],
    }),
  ];
}

/**
 * Every file of the base, in the order kustomization.yaml lists them.
 *
 * @example
 * ```ts
 * kubernetesManifests().find((f) => f.file === "prometheus-rule.yaml")!.objects[0]!.kind; // "PrometheusRule"
 * ```
 */
export function kubernetesManifests(): ManifestFile[] {
  return [
    {
      file: "exporter.yaml",
      comment: "The exporter with the push endpoint (ETL_INGEST=true, from the push-endpoint issue), and its Service.",
      objects: [exporterDeployment(), service("etl-metrics", "exporter", [PORTS.exporter])],
    },
    {
      file: "etl-job-with-exporter-sidecar.yaml",
      comment: "A job that writes log files (the simulator) with the exporter as a sidecar on a shared emptyDir.",
      objects: [sidecarDeployment(), service("etl-simulator", "etl-job", [PORTS.exporter, PORTS.simulator])],
    },
    {
      file: "service-monitors.yaml",
      comment: "What the operator's Prometheus scrapes: every exporter (job etl-metrics) and the simulator's own endpoint (job etl-simulator, basic auth).",
      objects: [
        serviceMonitor("etl-metrics", PORTS.exporter.name),
        serviceMonitor("etl-simulator", PORTS.simulator.name, {
          basicAuth: { username: { name: SECRETS.scrape, key: "username" }, password: { name: SECRETS.scrape, key: "password" } },
        }),
      ],
    },
    {
      file: "prometheus-rule.yaml",
      comment: "The alert rules: the groups of prometheus/rules/etl-alerts.yml, from the same source (lib/alerts/rules.ts).",
      objects: [prometheusRule()],
    },
    {
      file: "dashboard-configmap.yaml",
      comment: "grafana/dashboards/etl-monitoring.json for Grafana's dashboard sidecar (label grafana_dashboard=1).",
      objects: [dashboardConfigMap()],
    },
    {
      file: "cronjob-batch-push.yaml",
      comment: "An example batch job that pushes its events to the exporter's push endpoint.",
      objects: [cronJob()],
    },
    {
      file: "network-policies.yaml",
      comment: `Default deny; Prometheus (namespace ${MONITORING_NAMESPACE}) may scrape, pods labelled etl-monitoring/push-client=true may push.`,
      objects: networkPolicies(),
    },
  ];
}

const HEADER = "Generated from lib/kubernetes/manifests.ts by commands/build/kubernetes.ts (npm run build:kubernetes); do not edit.";

/** A file's text: its comment, then one YAML document per object. */
export function manifestFileYaml(file: ManifestFile): string {
  // A copy without shared references, which YAML would write as anchors and aliases.
  const plain = (o: Obj) => JSON.parse(JSON.stringify(o)) as Obj;
  return file.objects.map((o, i) => (i === 0 ? toYaml(plain(o), `${HEADER}\n${file.comment}`) : `---\n${toYaml(plain(o))}`)).join("");
}

/** The base's kustomization.yaml. */
export function kustomizationYaml(files: ManifestFile[] = kubernetesManifests()): string {
  return toYaml(
    { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: files.map((f) => f.file) },
    HEADER,
  );
}

/** Every file of the base by name, kustomization.yaml included. */
export function kubernetesBaseFiles(): Record<string, string> {
  const files = kubernetesManifests();
  return {
    ...Object.fromEntries(files.map((f) => [f.file, manifestFileYaml(f)])),
    "kustomization.yaml": kustomizationYaml(files),
  };
}
