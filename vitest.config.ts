import { defineConfig } from "vitest/config";

// Unit tests (`*.test.ts`) need no network. Integration tests (`*.int.test.ts`)
// get real Postgres, Redis and Kafka from the harness in local/src/services.ts.
export default defineConfig({
  test: {
    // The default summary, then one plain "tests: N passed, N failed" line for CI.
    reporters: ["default", "./local/src/testing/closing-line.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["*/test/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["*/test/**/*.int.test.ts"],
          globalSetup: ["local/src/testing/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
