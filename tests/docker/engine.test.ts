// The pure parts of the Docker engine harness: where debootstrap's mirror
// comes from, which address block the engine takes, what it unmounts, and
// the name of the cached root file system.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  cidrsOverlap,
  mountPointsUnder,
  parseDeb822Sources,
  parseNameservers,
  parseOneLineSources,
  parseProcNetRoute,
  pickAptMirror,
  pickFreeSubnet,
  readAptMirror,
  rootfsCacheName,
  STANDIN_IMAGE_ENV,
} from "./engine.ts";

const DEB822 = `Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBF
 -----END PGP PUBLIC KEY BLOCK-----
`;

describe("apt sources", () => {
  it("reads Deb822 stanzas, skipping comments between fields and keeping continuation lines with their field", () => {
    expect(parseDeb822Sources(DEB822)).toEqual([
      { types: ["deb"], uris: ["http://mirror.example/debian/"], suites: ["bookworm", "bookworm-updates"], components: ["main"], enabled: true },
      { types: ["deb"], uris: ["http://mirror.example/debian-security"], suites: ["bookworm-security"], components: ["main"], enabled: true },
    ]);
  });

  it("reads Deb822 field names in any case, several types and URIs, and Enabled: no", () => {
    const text = "types: deb deb-src\nURIS: http://one.example/debian http://two.example/debian\nsuites: bookworm\ncomponents: main contrib\nEnabled: No\n";
    expect(parseDeb822Sources(text)).toEqual([
      { types: ["deb", "deb-src"], uris: ["http://one.example/debian", "http://two.example/debian"], suites: ["bookworm"], components: ["main", "contrib"], enabled: false },
    ]);
  });

  it("reads the one-line format, with options, comments and deb-src", () => {
    const text = [
      "# a comment",
      "deb-src http://mirror.example/debian bookworm main",
      "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/debian bookworm main contrib # trailing",
      "deb [ trusted=yes ] file:///srv/mirror bookworm-updates main",
      "not a source line",
      "",
    ].join("\n");
    expect(parseOneLineSources(text)).toEqual([
      { types: ["deb-src"], uris: ["http://mirror.example/debian"], suites: ["bookworm"], components: ["main"], enabled: true },
      { types: ["deb"], uris: ["http://mirror.example/debian"], suites: ["bookworm"], components: ["main", "contrib"], enabled: true },
      { types: ["deb"], uris: ["file:///srv/mirror"], suites: ["bookworm-updates"], components: ["main"], enabled: true },
    ]);
  });

  it("picks the first enabled deb source carrying the suite's main, without its trailing slash", () => {
    expect(pickAptMirror(parseDeb822Sources(DEB822), "bookworm")).toBe("http://mirror.example/debian");
    expect(pickAptMirror(parseDeb822Sources(DEB822), "bookworm-security")).toBe("http://mirror.example/debian-security");
    expect(pickAptMirror(parseDeb822Sources(DEB822), "trixie")).toBeUndefined();
    const sources = parseOneLineSources(
      [
        "deb-src http://src.example/debian bookworm main",
        "deb http://contrib-only.example/debian bookworm contrib",
        "deb cdrom:[Debian 12]/ bookworm main",
        "deb https://second.example/debian bookworm main",
      ].join("\n"),
    );
    expect(pickAptMirror(sources, "bookworm")).toBe("https://second.example/debian");
    expect(pickAptMirror([{ types: ["deb"], uris: ["http://off.example/debian"], suites: ["bookworm"], components: ["main"], enabled: false }], "bookworm")).toBeUndefined();
  });

  describe("readAptMirror, on an apt folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "etl-apt-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("reads sources.list before sources.list.d, whose files it takes in name order, ignoring other extensions", async () => {
      mkdirSync(join(dir, "sources.list.d"));
      writeFileSync(join(dir, "sources.list.d", "a.sources.disabled"), "Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nComponents: main\n");
      writeFileSync(join(dir, "sources.list.d", "b-nodesource.sources"), "Types: deb\nURIs: https://node.example/node_20.x\nSuites: nodistro\nComponents: main\n");
      writeFileSync(join(dir, "sources.list.d", "c-debian.sources"), DEB822);
      writeFileSync(join(dir, "sources.list.d", "d-other.list"), "deb http://later.example/debian bookworm main\n");
      expect(await readAptMirror("bookworm", dir)).toBe("http://mirror.example/debian");

      writeFileSync(join(dir, "sources.list"), "deb http://first.example/debian bookworm main\n");
      expect(await readAptMirror("bookworm", dir)).toBe("http://first.example/debian");
    });

    it("says so when no source carries the suite", async () => {
      await expect(readAptMirror("trixie", dir)).rejects.toThrow(`no apt source in ${dir} carries trixie main: debootstrap needs a Debian mirror`);
    });
  });
});

describe("the engine's address block", () => {
  const ROUTES = [
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    "etldk1\t00006E0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    "",
  ].join("\n");

  it("reads /proc/net/route without the default route", () => {
    expect(parseProcNetRoute(ROUTES)).toEqual(["172.17.0.0/16", "192.0.2.0/24", "10.110.0.0/24"]);
  });

  it("reads the IPv4 name servers of resolv.conf", () => {
    expect(parseNameservers("# generated\nsearch example\nnameserver 10.255.255.53\nnameserver fd00::53\n  nameserver 10.0.0.2  \n")).toEqual([
      "10.255.255.53/32",
      "10.0.0.2/32",
    ]);
  });

  it("tells overlapping blocks", () => {
    expect(cidrsOverlap("10.1.0.0/16", "10.1.255.0/24")).toBe(true);
    expect(cidrsOverlap("10.1.2.3/32", "10.1.0.0/16")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/8", "10.200.0.0/16")).toBe(true);
    expect(cidrsOverlap("10.1.0.0/16", "10.2.0.0/16")).toBe(false);
    expect(cidrsOverlap("172.17.0.0/16", "10.17.0.0/16")).toBe(false);
  });

  it("takes the first free /16 from the start it is given, wrapping round", () => {
    const taken = [...parseProcNetRoute(ROUTES), "10.255.255.53/32"];
    expect(pickFreeSubnet(taken, 0)).toBe("10.100.0.0/16");
    expect(pickFreeSubnet(taken, 10)).toBe("10.111.0.0/16"); // 10.110 has a route
    expect(pickFreeSubnet(taken, 149)).toBe("10.249.0.0/16");
    expect(pickFreeSubnet(["10.249.0.0/16"], 149)).toBe("10.100.0.0/16");
  });

  it("gives up when the machine routes all of them", () => {
    expect(() => pickFreeSubnet(["10.0.0.0/8"], 3)).toThrow("no free /16 in 10.100.0.0-10.249.255.255: routes or name servers cover them all (10.0.0.0/8)");
  });
});

describe("mountPointsUnder", () => {
  const MOUNTINFO = [
    "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
    "42 26 254:0 /tmp/etl-dk-a/data /tmp/etl-dk-a/data rw,relatime shared:2 - ext4 /dev/vda rw",
    "50 42 0:50 / /tmp/etl-dk-a/data/overlay2/ab/merged rw - overlay overlay rw",
    "51 26 0:51 / /tmp/etl-dk-ab rw - tmpfs tmpfs rw",
    "52 26 0:52 / /tmp/etl-dk-a/rootfs/with\\040space rw - proc proc rw",
    "",
  ].join("\n");

  it("lists the folder's own mounts and those below it, last first, and no sibling sharing its prefix", () => {
    expect(mountPointsUnder(MOUNTINFO, "/tmp/etl-dk-a")).toEqual(["/tmp/etl-dk-a/rootfs/with space", "/tmp/etl-dk-a/data/overlay2/ab/merged", "/tmp/etl-dk-a/data"]);
    expect(mountPointsUnder(MOUNTINFO, "/tmp/etl-dk-a/data/")).toEqual(["/tmp/etl-dk-a/data/overlay2/ab/merged", "/tmp/etl-dk-a/data"]);
    expect(mountPointsUnder(MOUNTINFO, "/tmp/elsewhere")).toEqual([]);
  });

  it("refuses / and relative folders", () => {
    expect(() => mountPointsUnder(MOUNTINFO, "/")).toThrow('mountPointsUnder needs an absolute folder other than /, not "/"');
    expect(() => mountPointsUnder(MOUNTINFO, "tmp/etl-dk-a")).toThrow('mountPointsUnder needs an absolute folder other than /, not "tmp/etl-dk-a"');
  });
});

describe("rootfsCacheName", () => {
  it("names the tarball by suite, variant and a hash of the package list, whatever its order", () => {
    const name = rootfsCacheName({ suite: "bookworm", variant: "minbase", include: ["busybox", "ca-certificates"] });
    expect(name).toBe("bookworm-minbase-681c18741220.tar");
    expect(rootfsCacheName({ suite: "bookworm", variant: "minbase", include: ["ca-certificates", "busybox", "busybox"] })).toBe(name);
    expect(rootfsCacheName({ suite: "bookworm", variant: "minbase", include: ["busybox"] })).not.toBe(name);
  });
});

describe("STANDIN_IMAGE_ENV", () => {
  it("points the Compose file's image variables at the stand-ins", () => {
    expect(STANDIN_IMAGE_ENV).toEqual({
      ETL_NODE_IMAGE: "etl-test/node:20-standin",
      ETL_PROMETHEUS_IMAGE: "etl-test/prometheus:standin",
      ETL_ALERTMANAGER_IMAGE: "etl-test/alertmanager:standin",
    });
  });
});
