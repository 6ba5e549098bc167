import { defineConfig } from "vitest/config";

// `npm run test:tools`: only the suites that run real tools besides Node (*.tools.test.ts):
// Prometheus and promtool (metrics, alert rules), kubectl (renders the Kubernetes manifests),
// bash, curl and jq (the README's checkout walkthrough). A missing tool fails its suite, never
// skips it. `npm test` excludes them (vitest.config.ts), so it needs nothing but Node.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,apps,tests}/**/*.tools.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
