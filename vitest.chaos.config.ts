import { defineConfig } from "vitest/config";

// `npm run test:chaos`: only the chaos suites (tests/chaos/*.chaos.test.ts), which start a whole
// cluster on PostgreSQL, Redis and a NATS server of their own, and break it on purpose for
// minutes. `npm test` and `npm run test:distributed` exclude them (vitest.config.ts).
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["tests/chaos/**/*.chaos.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 420_000,
    hookTimeout: 300_000,
    pool: "forks",
    // One cluster at a time: two would fight over the 2 cores and skew the latencies measured.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
