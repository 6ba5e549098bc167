import { defineConfig } from "vitest/config";

// `npm run test:overload`: issue 15's overload suites (*.overload.test.ts): a burst of sign-up +
// login pairs, checkouts offered far above what the platform confirms, bodies over the limit, on
// the embedded default and on a 2-replica cluster (PostgreSQL, NATS JetStream and Redis, which CI
// starts before the distributed suites), with the invariants checked afterwards. They load the
// machine on purpose, so they run one at a time and out of `npm test` (vitest.config.ts).
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,apps,tests}/**/*.overload.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
