import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMPOSE_ADDRESSES, LOCAL_ADDRESSES, renderTargetFiles, TARGET_SERVICES } from "./targets.ts";

describe("target files", () => {
  it.each([
    ["local", LOCAL_ADDRESSES],
    ["compose", COMPOSE_ADDRESSES],
  ] as const)("prometheus/targets/%s/ holds exactly the rendering", (folder, addresses) => {
    const files = renderTargetFiles(addresses);
    for (const service of TARGET_SERVICES) {
      expect(readFileSync(`prometheus/targets/${folder}/${service}.json`, "utf8")).toBe(files[`${service}.json`]);
      expect(JSON.parse(files[`${service}.json`]!)).toEqual([{ targets: [addresses[service]], labels: { service } }]);
    }
  });
});
