import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "source" condition, so tests run
// the code as written, with no build step in between.
// Suites that need the distributed servers (NATS, PostgreSQL) whole, not one adapter among
// others, are named *.distributed.test.ts and run when BLOSSOM_TEST_ADAPTERS names nats
// (`npm run test:distributed`): `npm test` on a laptop without servers stays green.
const distributed = (process.env.BLOSSOM_TEST_ADAPTERS ?? "").split(",").includes("nats");

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,apps,tests}/**/*.test.ts"],
    // Chaos suites (*.chaos.test.ts) run alone, through vitest.chaos.config.ts (`npm run test:chaos`).
    // Suites that run a tool besides Node (*.tools.test.ts: Prometheus, promtool, kubectl, curl,
    // jq) run through vitest.tools.config.ts (`npm run test:tools`): `npm test` needs only Node.
    exclude: [
      "**/node_modules/**",
      "**/dist/**",
      "**/*.chaos.test.ts",
      "**/*.tools.test.ts",
      // Suites that spawn and kill blossom processes (*.processes.test.ts) run through
      // vitest.processes.config.ts (`npm run test:processes`): slow, so out of the command a
      // contributor runs before every commit.
      "**/*.processes.test.ts",
      ...(distributed ? [] : ["**/*.distributed.test.ts"]),
    ],

    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: more workers only add contention for the embedded databases.
    maxWorkers: 2,
  },
});
