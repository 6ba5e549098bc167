import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "source" condition, so tests run
// the code as written, with no build step in between.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,apps,tests}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: more workers only add contention for the embedded databases.
    maxWorkers: 2,
  },
});
