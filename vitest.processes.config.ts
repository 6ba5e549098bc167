import { defineConfig } from "vitest/config";

// `npm run test:processes`: the suites that spawn `blossom` processes and kill, stop or restart
// them (crash recovery at every crash point, the saga under SIGKILL, graceful shutdown, the CLI,
// a LOG_LEVEL=trace run read for secrets). Slow on 2 cores, so out of `npm test`; CI runs them
// on the embedded default and, with BLOSSOM_TEST_ADAPTERS, on PostgreSQL + NATS.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,apps,tests}/**/*.processes.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
