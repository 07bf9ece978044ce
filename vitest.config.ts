import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Embedded databases take a few seconds to open; keep parallelism within two cores.
    maxWorkers: 2,
    pool: "forks",
  },
});
