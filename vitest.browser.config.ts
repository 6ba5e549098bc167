import { defineConfig } from "vitest/config";

// `npm run test:browser`: the storefront (apps/web, built to apps/web/dist by `npm run build`)
// driven in Debian's chromium by playwright-core, on a fresh embedded platform started in this
// process — and the operations console on `blossom cluster` too (console-cluster.browser.test.ts:
// PostgreSQL, NATS JetStream and Redis, as for `npm run test:distributed`). Needs the `chromium`
// package (CHROMIUM_PATH overrides /usr/bin/chromium); so out of `npm test`, which needs nothing
// but Node (vitest.config.ts excludes *.browser.test.ts).
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["{packages,services,apps,tests}/**/*.browser.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
  },
});
