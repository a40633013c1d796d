import { defineConfig } from "vitest/config";

// The Compose stack, brought up for real on a Docker engine the test starts
// (tests/compose.e2e.test.ts). `npm test` runs it after the main suite.
export default defineConfig({
  test: {
    include: ["tests/compose.e2e.test.ts"],
    globalSetup: ["tests/global_setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});
