import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXPORTER_V8_FLAGS, v8FlagsFor } from "./v8_flags.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("EXPORTER_V8_FLAGS", () => {
  it("is what every start of the exporter passes", () => {
    expect(EXPORTER_V8_FLAGS).toEqual(["--max-semi-space-size=1"]);
    const npm = JSON.parse(read("package.json")).scripts.exporter as string;
    expect(npm).toContain(`node ${EXPORTER_V8_FLAGS.join(" ")} dist/exporter.mjs`);
    const deno = JSON.parse(read("deno.json")).tasks.exporter as string;
    expect(deno).toContain(`--v8-flags=${EXPORTER_V8_FLAGS.join(",")} workers/exporter/main.ts`);
    // npm run dev / deno task dev, npm run stack:local and the namespace hosts start it from code.
    expect(v8FlagsFor("exporter")).toEqual(EXPORTER_V8_FLAGS);
    expect(v8FlagsFor("simulator")).toEqual([]);
    for (const starter of ["workers/dev.ts", "commands/stack/native.ts", "tools/netns/etl_hosts.ts"]) expect(read(starter)).toMatch(/v8FlagsFor\((name|worker)\)/);
    expect(read("deploy/compose/Dockerfile")).toContain(`CMD ${JSON.stringify(["node", ...EXPORTER_V8_FLAGS, "/app/exporter.mjs"]).replaceAll(",", ", ")}`);
  });
});
