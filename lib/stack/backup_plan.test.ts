import { describe, expect, it } from "vitest";
import {
  archiveName,
  archiveProblems,
  BACKUP_VOLUMES,
  backupArgv,
  DATA_SERVICES,
  defaultBackupDir,
  emptyVolumeArgv,
  formatBytes,
  MANIFEST_FILE,
  parseManifest,
  renderManifest,
  restoreArgv,
  volumeNames,
} from "./backup_plan.ts";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const ENTRIES = [
  { key: "prometheus-data", name: "etl-monitoring-prometheus-data", bytes: 29_903, sha256: SHA_A },
  { key: "grafana-data", name: "etl-monitoring-grafana-data", bytes: 95, sha256: SHA_B },
] as const;
const MANIFEST = renderManifest(new Date("2026-11-24T01:24:41.253Z"), ENTRIES);

describe("what is backed up", () => {
  it("is the three data volumes of the contract, and their services", () => {
    expect(BACKUP_VOLUMES.map((v) => [v.key, v.name, v.service])).toEqual([
      ["prometheus-data", "etl-monitoring-prometheus-data", "prometheus"],
      ["grafana-data", "etl-monitoring-grafana-data", "grafana"],
      ["alertmanager-data", "etl-monitoring-alertmanager-data", "alertmanager"],
    ]);
    expect(DATA_SERVICES).toEqual(["prometheus", "grafana", "alertmanager"]);
    expect(MANIFEST_FILE).toBe("manifest.json");
    expect(archiveName("etl-monitoring-grafana-data")).toBe("etl-monitoring-grafana-data.tar.gz");
  });

  it("takes the volumes' names from the Compose file", () => {
    expect(volumeNames({ volumes: { "grafana-data": { name: "g" }, "prometheus-data": {}, other: { name: "o" } } }, "p")).toEqual({
      "prometheus-data": "p_prometheus-data",
      "grafana-data": "g",
      "alertmanager-data": "etl-monitoring-alertmanager-data",
    });
    expect(volumeNames({ volumes: { "prometheus-data": null } }, "p")["prometheus-data"]).toBe("p_prometheus-data");
    expect(volumeNames(null, "p")).toEqual({
      "prometheus-data": "etl-monitoring-prometheus-data",
      "grafana-data": "etl-monitoring-grafana-data",
      "alertmanager-data": "etl-monitoring-alertmanager-data",
    });
  });

  it("goes to backups/<UTC time> by default", () => {
    expect(defaultBackupDir(new Date("2026-11-24T01:10:00.123Z"))).toBe("backups/20261124T011000Z");
    expect(defaultBackupDir(new Date(Date.UTC(2027, 0, 2, 3, 4, 5)))).toBe("backups/20270102T030405Z");
  });
});

describe("the manifest", () => {
  it("records the time and each archive's volume, size and SHA-256", () => {
    expect(MANIFEST).toBe(`{
  "kind": "etl-monitoring-backup",
  "version": 1,
  "created": "2026-11-24T01:24:41.253Z",
  "volumes": [
    {
      "key": "prometheus-data",
      "name": "etl-monitoring-prometheus-data",
      "archive": "etl-monitoring-prometheus-data.tar.gz",
      "bytes": 29903,
      "sha256": "${SHA_A}"
    },
    {
      "key": "grafana-data",
      "name": "etl-monitoring-grafana-data",
      "archive": "etl-monitoring-grafana-data.tar.gz",
      "bytes": 95,
      "sha256": "${SHA_B}"
    }
  ]
}
`);
  });

  it("reads back what it wrote", () => {
    expect(parseManifest(MANIFEST, "b/manifest.json")).toEqual({ ok: true, manifest: JSON.parse(MANIFEST) });
  });

  it("says what is wrong with anything else", () => {
    const edit = (change: (m: Record<string, any>) => void) => {
      const m = JSON.parse(MANIFEST);
      change(m);
      return parseManifest(JSON.stringify(m), "b/manifest.json");
    };
    expect(parseManifest("{", "b/manifest.json")).toEqual({ ok: false, message: "b/manifest.json is not JSON" });
    expect(parseManifest("{}", "b/manifest.json")).toEqual({
      ok: false,
      message: "b/manifest.json is not a backup manifest of this stack: kind: Invalid input: expected \"etl-monitoring-backup\"",
    });
    expect(edit((m) => (m.volumes = []))).toEqual({
      ok: false,
      message: "b/manifest.json is not a backup manifest of this stack: volumes: Too small: expected array to have >=1 items",
    });
    expect(edit((m) => (m.volumes[0].archive = "../../etc/passwd"))).toEqual({
      ok: false,
      message: "b/manifest.json is not a backup manifest of this stack: volumes.0: archive must be <name>.tar.gz",
    });
    expect(edit((m) => (m.volumes[0].key = "secrets-etl")).ok).toBe(false);
    expect(edit((m) => (m.volumes[0].name = "-v /:/host")).ok).toBe(false);
    expect(edit((m) => (m.volumes[1].key = "prometheus-data"))).toEqual({ ok: false, message: "b/manifest.json lists prometheus-data twice" });
  });

  it("is checked against the archives found before anything is touched", () => {
    const parsed = parseManifest(MANIFEST, "m");
    if (!parsed.ok) throw new Error(parsed.message);
    const good = new Map([
      ["etl-monitoring-prometheus-data.tar.gz", { bytes: 29_903, sha256: SHA_A }],
      ["etl-monitoring-grafana-data.tar.gz", { bytes: 95, sha256: SHA_B }],
    ]);
    expect(archiveProblems(parsed.manifest, good, "backups/x/")).toEqual([]);
    expect(archiveProblems(parsed.manifest, new Map([
      ["etl-monitoring-prometheus-data.tar.gz", { bytes: 100, sha256: SHA_A }],
    ]), "backups/x")).toEqual([
      "backups/x/etl-monitoring-prometheus-data.tar.gz has 100 bytes, the manifest says 29903",
      "backups/x/etl-monitoring-grafana-data.tar.gz is missing",
    ]);
    expect(archiveProblems(parsed.manifest, new Map([...good, ["etl-monitoring-grafana-data.tar.gz", { bytes: 95, sha256: SHA_A }]]), "b")).toEqual([
      "b/etl-monitoring-grafana-data.tar.gz does not match the SHA-256 of the manifest",
    ]);
  });
});

describe("the docker run command lines", () => {
  it("archive a volume read-only to standard output, as root, keeping numeric owners, without network", () => {
    expect(backupArgv("etl-monitoring/etl-metrics:0.1.0", "etl-monitoring-grafana-data")).toEqual([
      "run", "--rm", "--network", "none", "--user", "0",
      "-v", "etl-monitoring-grafana-data:/volume:ro",
      "--entrypoint", "tar", "etl-monitoring/etl-metrics:0.1.0",
      "-C", "/volume", "--numeric-owner", "-czf", "-", ".",
    ]);
  });

  it("empty a volume, then unpack standard input into it with owners and modes", () => {
    expect(emptyVolumeArgv("img:1", "v")).toEqual([
      "run", "--rm", "--network", "none", "--user", "0", "-v", "v:/volume", "--entrypoint", "find", "img:1", "/volume", "-mindepth", "1", "-delete",
    ]);
    expect(restoreArgv("img:1", "v")).toEqual([
      "run", "--rm", "-i", "--network", "none", "--user", "0", "-v", "v:/volume", "--entrypoint", "tar", "img:1",
      "-C", "/volume", "--numeric-owner", "-xzpf", "-",
    ]);
  });
});

describe("formatBytes", () => {
  it.each([[0, "0 B"], [1023, "1023 B"], [1024, "1.0 KiB"], [29_903, "29.2 KiB"], [5_347_737, "5.1 MiB"], [3 * 1024 ** 4, "3.0 TiB"]])(
    "%d bytes is %s",
    (bytes, text) => expect(formatBytes(bytes)).toBe(text),
  );
});
