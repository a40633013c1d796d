import { describe, expect, it } from "vitest";
import {
  buildArgs,
  chooseCompose,
  COMPOSE_V1,
  COMPOSE_V2,
  composeArgv,
  composeEnvironment,
  configArgs,
  downArgs,
  logsArgs,
  npmRegistryFrom,
  psArgs,
  readComposeConfig,
  serviceArgs,
  servicesToStart,
  upArgs,
  versionArgv,
} from "./compose_command.ts";
import { STACK_SERVICES } from "./compose_project.ts";

const PORTS = { grafanaPort: 3000, prometheusPort: 9090, alertmanagerPort: 9093, exporterPort: 8083, simulatorPort: 8000, receiverPort: 9095 };

describe("chooseCompose", () => {
  it("takes v2 when it answers, and does not ask v1 then", () => {
    const asked: string[] = [];
    const choice = chooseCompose(undefined, (c) => (asked.push(c.join(" ")), true));
    expect(choice).toEqual({ ok: true, command: ["docker", "compose"], reason: "docker compose answered" });
    expect(asked).toEqual(["docker compose"]);
  });

  it("falls back to v1", () => {
    const asked: string[] = [];
    const choice = chooseCompose(undefined, (c) => (asked.push(c.join(" ")), c.length === 1));
    expect(choice).toEqual({ ok: true, command: ["docker-compose"], reason: "docker compose failed; docker-compose answered" });
    expect(asked).toEqual(["docker compose", "docker-compose"]);
  });

  it("takes ETL_COMPOSE as given, split into words, without asking", () => {
    const never = () => expect.unreachable() as never;
    expect(chooseCompose("docker-compose", never)).toEqual({ ok: true, command: ["docker-compose"], reason: "ETL_COMPOSE" });
    expect(chooseCompose("  docker   compose ", never)).toEqual({ ok: true, command: ["docker", "compose"], reason: "ETL_COMPOSE" });
    expect(chooseCompose(" ", () => false).ok).toBe(false);
  });

  it("says what to install when neither answers", () => {
    expect(chooseCompose(undefined, () => false)).toEqual({
      ok: false,
      message: "Docker Compose not found: neither `docker compose version` (the v2 plugin) nor `docker-compose version` (v1) " +
        "succeeded. Install the Compose plugin (package docker-compose-plugin) or docker-compose, or set ETL_COMPOSE to the command.",
    });
  });

  it("asks with `version`", () => {
    expect(versionArgv(COMPOSE_V2)).toEqual(["docker", "compose", "version"]);
    expect(versionArgv(COMPOSE_V1)).toEqual(["docker-compose", "version"]);
  });
});

describe("Compose argv", () => {
  const target = { command: ["docker-compose"], project: "etl-monitoring", file: "/repo/deploy/compose/docker-compose.yml" };

  it("always names the project and the file", () => {
    expect(composeArgv(target, ["ps", "-a", "-q"])).toEqual([
      "docker-compose", "-p", "etl-monitoring", "-f", "/repo/deploy/compose/docker-compose.yml", "ps", "-a", "-q",
    ]);
    expect(composeArgv({ ...target, command: ["docker", "compose"] }, upArgs([]))).toEqual([
      "docker", "compose", "-p", "etl-monitoring", "-f", "/repo/deploy/compose/docker-compose.yml", "up", "-d",
    ]);
    // TLS mode: the override after the file, so that it wins.
    expect(composeArgv({ ...target, overrides: ["/repo/deploy/compose/docker-compose.tls.yml"] }, ["down"])).toEqual([
      "docker-compose", "-p", "etl-monitoring", "-f", "/repo/deploy/compose/docker-compose.yml", "-f", "/repo/deploy/compose/docker-compose.tls.yml", "down",
    ]);
  });

  it("builds each call", () => {
    expect(configArgs()).toEqual(["config"]);
    expect(buildArgs([])).toEqual(["build"]);
    expect(buildArgs(["etl-metrics", "prometheus"])).toEqual(["build", "etl-metrics", "prometheus"]);
    expect(upArgs(["grafana"])).toEqual(["up", "-d", "grafana"]);
    expect(downArgs(false)).toEqual(["down"]);
    expect(downArgs(true)).toEqual(["down", "--volumes"]);
    expect(psArgs()).toEqual(["ps", "-a", "-q"]);
    expect(serviceArgs("restart", ["etl-simulator", "etl-metrics"])).toEqual(["restart", "etl-simulator", "etl-metrics"]);
    expect(serviceArgs("stop", ["prometheus"])).toEqual(["stop", "prometheus"]);
    expect(serviceArgs("start", [])).toEqual(["start"]);
    expect(logsArgs({ tail: "100", follow: false })).toEqual(["logs", "--tail", "100"]);
    expect(logsArgs({ service: "grafana", tail: "all", follow: true })).toEqual(["logs", "--tail", "all", "--follow", "grafana"]);
    expect(logsArgs({ service: "grafana", tail: "20", follow: false, noColor: true })).toEqual(["logs", "--tail", "20", "--no-color", "grafana"]);
  });
});

describe("composeEnvironment", () => {
  const input = { secretsDir: "/repo/secrets", npmRegistry: "https://registry.example/", bindAddress: "127.0.0.1", ports: PORTS };

  it("passes the caller's environment through and adds the resolved settings", () => {
    expect(composeEnvironment({ DOCKER_HOST: "unix:///d.sock", ETL_SPEED: "60", UNSET: undefined, ETL_SECRETS_DIR: "secrets" }, input)).toEqual({
      DOCKER_HOST: "unix:///d.sock",
      ETL_SPEED: "60",
      ETL_SECRETS_DIR: "/repo/secrets",
      ETL_BIND_ADDRESS: "127.0.0.1",
      ETL_GRAFANA_PORT: "3000",
      ETL_PROMETHEUS_PORT: "9090",
      ETL_ALERTMANAGER_PORT: "9093",
      ETL_EXPORTER_PORT: "8083",
      ETL_SIMULATOR_PORT: "8000",
      ETL_RECEIVER_PORT: "9095",
      ETL_NPM_REGISTRY: "https://registry.example/",
    });
  });

  it("keeps the caller's registry, and sets none when npm did not answer", () => {
    expect(composeEnvironment({ ETL_NPM_REGISTRY: "https://mine.example/" }, input).ETL_NPM_REGISTRY).toBe("https://mine.example/");
    expect(composeEnvironment({ ETL_NPM_REGISTRY: "" }, input).ETL_NPM_REGISTRY).toBe("https://registry.example/");
    expect("ETL_NPM_REGISTRY" in composeEnvironment({}, { ...input, npmRegistry: undefined })).toBe(false);
  });

  it("reads npm's answer", () => {
    expect(npmRegistryFrom("https://registry.example/\n")).toBe("https://registry.example/");
    expect(npmRegistryFrom("undefined\n")).toBeUndefined();
    expect(npmRegistryFrom("")).toBeUndefined();
  });
});

// As Compose v1 prints the lead's file (depends_on as a map with conditions).
const CONFIG_V1 = `
services:
  alertmanager:
    depends_on:
      etl-alert-receiver:
        condition: service_started
      etl-secrets-init:
        condition: service_completed_successfully
  etl-alert-receiver:
    depends_on:
      etl-secrets-init:
        condition: service_completed_successfully
  etl-metrics: {}
  etl-secrets-init:
    image: etl-monitoring/etl-secrets-init:0.1.0
  etl-simulator:
    depends_on:
      etl-secrets-init:
        condition: service_completed_successfully
  grafana:
    depends_on:
      etl-secrets-init:
        condition: service_completed_successfully
      prometheus:
        condition: service_healthy
  prometheus:
    depends_on:
      alertmanager: {condition: service_healthy}
      etl-metrics: {condition: service_started}
      etl-simulator: {condition: service_started}
      etl-secrets-init: {condition: service_completed_successfully}
version: '3.9'
volumes:
  grafana-data:
    name: etl-monitoring-grafana-data
`;

describe("readComposeConfig and servicesToStart", () => {
  const { services, volumes } = readComposeConfig(CONFIG_V1);

  it("reads each service's dependencies and the volumes", () => {
    expect(Object.fromEntries(services)).toEqual({
      alertmanager: ["etl-alert-receiver", "etl-secrets-init"],
      "etl-alert-receiver": ["etl-secrets-init"],
      "etl-metrics": [],
      "etl-secrets-init": [],
      "etl-simulator": ["etl-secrets-init"],
      grafana: ["etl-secrets-init", "prometheus"],
      prometheus: ["alertmanager", "etl-metrics", "etl-simulator", "etl-secrets-init"],
    });
    expect(volumes).toEqual({ "grafana-data": { name: "etl-monitoring-grafana-data" } });
    expect(Object.fromEntries(readComposeConfig("services:\n  a:\n    depends_on: [b]\n  b:\n").services)).toEqual({ a: ["b"], b: [] });
  });

  it("refuses what is not a Compose file", () => {
    expect(() => readComposeConfig("version: '3'\n")).toThrow("compose config printed no services");
    expect(() => readComposeConfig("a: [")).toThrow(/^compose config printed something that is not YAML/);
  });

  it("starts everything, or those named and what they need, in the report order", () => {
    expect(servicesToStart(services, [], STACK_SERVICES)).toEqual([...STACK_SERVICES]);
    expect(servicesToStart(services, ["etl-simulator", "etl-metrics", "etl-alert-receiver", "alertmanager", "prometheus"], STACK_SERVICES)).toEqual([
      "etl-secrets-init", "etl-simulator", "etl-metrics", "etl-alert-receiver", "alertmanager", "prometheus",
    ]);
    expect(servicesToStart(services, ["etl-simulator"], STACK_SERVICES)).toEqual(["etl-secrets-init", "etl-simulator"]);
    expect(servicesToStart(new Map([["z", []], ["a", []], ["prometheus", []]]), [], STACK_SERVICES)).toEqual(["prometheus", "a", "z"]);
  });

  it("names a service the file does not have", () => {
    expect(() => servicesToStart(services, ["grafna"], STACK_SERVICES)).toThrow(
      "no service grafna in the Compose file; its services: alertmanager, etl-alert-receiver, etl-metrics, etl-secrets-init, etl-simulator, grafana, prometheus",
    );
  });
});
