import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "source" condition, so tests run
// the code as written, with no build step in between.
// Suites that need the distributed servers (NATS, PostgreSQL) whole, not one adapter among
// others, are named *.distributed.test.ts and run when BLOSSOM_TEST_ADAPTERS names nats
// (`npm run test:distributed`): `npm test` on a laptop without servers stays green.
const distributed = (process.env.BLOSSOM_TEST_ADAPTERS ?? "").split(",").includes("nats");

const include = ["{packages,services,apps,tests}/**/*.test.ts"];
const exclude = [
  "**/node_modules/**",
  "**/dist/**",
  // Chaos suites (*.chaos.test.ts) run alone, through vitest.chaos.config.ts (`npm run test:chaos`).
  "**/*.chaos.test.ts",
  // Suites that run a tool besides Node (*.tools.test.ts: Prometheus, promtool, kubectl, curl,
  // jq) run through vitest.tools.config.ts (`npm run test:tools`): `npm test` needs only Node.
  "**/*.tools.test.ts",
  // Suites that spawn and kill blossom processes (*.processes.test.ts) run through
  // vitest.processes.config.ts (`npm run test:processes`): slow, so out of the command a
  // contributor runs before every commit.
  "**/*.processes.test.ts",
  // Suites that drive the storefront in a real browser (*.browser.test.ts: Debian's chromium)
  // run through vitest.browser.config.ts (`npm run test:browser`).
  "**/*.browser.test.ts",
  // Overload suites (*.overload.test.ts: bursts, checkouts far above capacity, on the embedded
  // default and a 2-replica cluster) run through vitest.overload.config.ts (`npm run test:overload`).
  "**/*.overload.test.ts",
  ...(distributed ? [] : ["**/*.distributed.test.ts"]),
];

/** BLOSSOM_TEST_ISOLATE=1: every file in a process of its own, to tell a leak between files from a bug. */
const isolateEveryFile = process.env.BLOSSOM_TEST_ISOLATE === "1";

/**
 * Suites that need a process of their own: they check which modules a code path loads (vi.mock
 * on the drivers), or start OpenTelemetry tracing, which is once per process and global (it
 * patches modules and stays on for whatever runs after it).
 */
const ownProcess = [
  "packages/store/src/open-store.test.ts",
  "packages/store/src/open-store.postgres.test.ts",
  "packages/telemetry/src/tracing/messaging-spans.test.ts",
  "tests/tracing.test.ts",
  "tests/ops-console.test.ts",
  "tests/embedded-modules.test.ts",
];

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: more workers only add contention for the embedded databases.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "shared",
          include,
          exclude: [...exclude, ...ownProcess],
          // A worker process runs file after file, importing the platform's modules (Fastify,
          // PGlite, TypeBox, …) once instead of once per file: re-importing them took 90 of the
          // suite's 256 s. Each file still runs its own test module, and starts and stops its own
          // platforms, services and databases; what carries over is module state meant to be per
          // process (caches, the testkit's PGlite cluster). Files that cannot share a process
          // are in `ownProcess`; BLOSSOM_TEST_ISOLATE=1 isolates every file.
          isolate: isolateEveryFile,
        },
      },
      {
        extends: true,
        test: { name: "own-process", include: ownProcess, exclude, isolate: true },
      },
    ],
  },
});
