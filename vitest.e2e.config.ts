import { defineConfig } from "vitest/config";

// End-to-end: one real control plane for the run, files one after another (some restart the
// webhook or the API server), generous timeouts for a two-core machine.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/cluster/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
  },
});
