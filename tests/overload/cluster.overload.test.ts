import { spawnBlossom, TEST_PASSWORD_HASH_COST, testAdapters, waitForClusterReady } from "@blossom/testkit";
import { clusterEnv, stopClusterAndClean } from "../support/cluster-env.js";
import { overloadSuite } from "./support/overload-suite.js";

/**
 * Issue 15 on `blossom cluster --replicas 2` (every service and the gateway twice, each instance
 * a process of its own) on the local PostgreSQL (a database per service), NATS JetStream and
 * Redis: the servers CI starts before the distributed suites.
 */
const adapters = testAdapters({ ...process.env, BLOSSOM_TEST_ADAPTERS: "postgres,nats" });

overloadSuite("cluster: 2 replicas, PostgreSQL + NATS", {
  async start(env) {
    const tag = `t_ov_${process.pid}_${Date.now() % 1e8}`;
    const cluster = spawnBlossom(
      ["cluster", "--replicas", "2"],
      clusterEnv({ ...adapters, prefix: tag }, { ...TEST_PASSWORD_HASH_COST, ...env }),
    );
    const rows = await waitForClusterReady(cluster, 200_000).catch(async (error: unknown) => {
      cluster.child.kill("SIGKILL");
      throw error;
    });
    const gateway = rows.find((row) => row.service === "gateway")?.url;
    if (!gateway) throw new Error("the cluster printed no gateway");
    return {
      gateway,
      async stop() {
        await stopClusterAndClean(
          cluster,
          rows.map((row) => row.pid),
          { ...adapters, prefix: tag },
        );
      },
    };
  },
  burst: 64,
  checkoutRate: 80,
  checkoutMs: 6_000,
});
