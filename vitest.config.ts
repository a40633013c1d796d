import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["clients/**/*.test.ts", "handlers/**/*.test.ts", "lib/**/*.test.ts", "workers/**/*.test.ts", "commands/**/*.test.ts", "tools/**/*.test.ts", "tests/**/*.test.ts", "grafana/**/*.test.ts", "deploy/**/*.test.ts"],
    // The Compose stack test builds images and takes minutes of CPU: it runs
    // on its own, after this suite (vitest.compose.config.ts, `npm test`).
    exclude: ["**/node_modules/**", "tests/compose.e2e.test.ts"],
    globalSetup: ["tests/global_setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
