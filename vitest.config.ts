import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["handlers/**/*.test.ts", "lib/**/*.test.ts", "workers/**/*.test.ts", "tests/**/*.test.ts", "grafana/**/*.test.ts", "deploy/**/*.test.ts"],
    globalSetup: ["tests/global_setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
