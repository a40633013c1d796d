import { describe, expect, it } from "vitest";
import { compareLogAge, logNameOf } from "./rotation_set.ts";

describe("rotation sets", () => {
  it("reads each *.log and its rotations, never compressed or hidden files", () => {
    expect(logNameOf("orders.log")).toEqual({ set: "orders.log", rank: [2, 0, ""] });
    expect(logNameOf("orders.log.1")).toEqual({ set: "orders.log", rank: [1, -1, ""] });
    expect(logNameOf("orders.log.12")).toEqual({ set: "orders.log", rank: [1, -12, ""] });
    expect(logNameOf("orders.log-20261201")).toEqual({ set: "orders.log", rank: [0, 0, "20261201"] });
    expect(logNameOf("orders.log.2026-12-01")).toEqual({ set: "orders.log", rank: [0, 0, "2026-12-01"] });
    // Other programs' files beside a log: the simulator's writer lock, backups, editor swap files.
    for (const name of ["orders.log.lock", "orders.log.bak", "orders.log.swp", "orders.log-old"]) expect(logNameOf(name), name).toBeUndefined();
    for (const name of ["orders.log.2.gz", "orders.log-20261201.zst", "orders.log.1.bz2", "orders.log.3.xz", ".orders.log", "orders.txt", ".log", "orders.log.swp.gz"]) {
      expect(logNameOf(name), name).toBeUndefined();
    }
  });

  it("orders a set oldest first: dated by date, numbered by falling number, the live file last", () => {
    const names = ["b.log", "a.log.1", "a.log", "a.log-20261202", "a.log.10", "a.log.2", "a.log-20261130"];
    expect([...names].sort(compareLogAge)).toEqual(["a.log-20261130", "a.log-20261202", "a.log.10", "a.log.2", "a.log.1", "a.log", "b.log"]);
  });
});
