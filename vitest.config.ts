import { defineConfig } from "vitest/config";

// Unit, HTTPS-server, offline-command and chart-rendering tests: fast, no control plane.
export default defineConfig({
  test: {
    include: [
      "src/**/*.test.ts",
      "test/unit/**/*.test.ts",
      "test/server/**/*.test.ts",
      "test/cli/**/*.test.ts",
      "test/chart/**/*.test.ts",
    ],
    testTimeout: 20_000,
    pool: "forks",
  },
});
