import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { certificateNames, expandIpv6, needsRenewal, parseExtraNames, serverFiles, TLS_SERVICES } from "./certificates.ts";

const DAY = 86_400_000;

describe("the certificate plan", () => {
  it("names each service by loopback, its Compose name and the extra names, without repeats", () => {
    expect(certificateNames("etl-metrics", { dns: [], ips: [] })).toEqual({ dns: ["localhost", "etl-metrics"], ips: ["127.0.0.1", "::1"] });
    expect(certificateNames("prometheus", parseExtraNames("mon.example.org, localhost, 10.0.0.5, 127.0.0.1, fd00::1"))).toEqual({
      dns: ["localhost", "prometheus", "mon.example.org"],
      ips: ["127.0.0.1", "::1", "10.0.0.5", "fd00::1"],
    });
    expect(new Set(TLS_SERVICES.map((s) => serverFiles(s).cert)).size).toBe(TLS_SERVICES.length);
  });

  it("parses extra names, refusing what is neither a host name nor an IP", () => {
    expect(parseExtraNames(undefined)).toEqual({ dns: [], ips: [] });
    expect(parseExtraNames(" , ETL.Example.org,*.svc.local ")).toEqual({ dns: ["etl.example.org", "*.svc.local"], ips: [] });
    for (const bad of ["under_score.example", "a b", "-lead.example", "http://x"]) {
      expect(() => parseExtraNames(bad), bad).toThrow(`ETL_TLS_EXTRA_NAMES: ${JSON.stringify(bad)} is neither`);
    }
  });

  it("renews within 30 days of expiry or when the names change, keeps otherwise", () => {
    const now = new Date("2027-01-01T00:00:00Z");
    const names = { dns: ["localhost", "x"], ips: ["127.0.0.1"] };
    expect(needsRenewal({ notAfter: new Date(now.getTime() + 31 * DAY), ...names }, names, now)).toBeUndefined();
    expect(needsRenewal({ notAfter: new Date(now.getTime() + 30 * DAY), ...names }, names, now)).toBe("expires within 30 days");
    expect(needsRenewal({ notAfter: new Date(now.getTime() - DAY), ...names }, names, now)).toBe("expires within 30 days");
    expect(needsRenewal({ notAfter: new Date(now.getTime() + 90 * DAY), dns: ["x", "localhost"], ips: ["127.0.0.1"] }, names, now)).toBeUndefined();
    expect(needsRenewal({ notAfter: new Date(now.getTime() + 90 * DAY), dns: ["localhost"], ips: ["127.0.0.1"] }, names, now)).toBe("its names changed");
  });

  it("writes IPv6 in full the way certificates compare it, whatever the compression", () => {
    expect(expandIpv6("::1")).toBe("0:0:0:0:0:0:0:1");
    expect(expandIpv6("fd00::1")).toBe("fd00:0:0:0:0:0:0:1");
    expect(expandIpv6("127.0.0.1")).toBe("127.0.0.1");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.nat(7), fc.nat(8), (groups, start, length) => {
        const full = groups.map((g) => g.toString(16)).join(":");
        const end = Math.min(8, start + length);
        // Compress a run of groups that are zero (if any) with "::".
        const zeroRun = groups.slice(start, end).every((g) => g === 0) && end > start;
        const text = zeroRun ? `${groups.slice(0, start).map((g) => g.toString(16)).join(":")}::${groups.slice(end).map((g) => g.toString(16)).join(":")}` : full;
        expect(expandIpv6(text)).toBe(full);
      }),
    );
  });
});
