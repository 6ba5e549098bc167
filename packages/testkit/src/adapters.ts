/**
 * Which adapters the contract suites run against. `npm test` runs the embedded ones; CI also
 * runs `BLOSSOM_TEST_ADAPTERS=postgres,nats` against the real servers, where an unreachable
 * server fails the suite instead of skipping it.
 */
export interface TestAdapters {
  bus: Array<"memory" | "nats">;
  store: Array<"pglite" | "postgres">;
  natsUrl: string;
  postgresUrl: string;
}

export function testAdapters(env: NodeJS.ProcessEnv = process.env): TestAdapters {
  const names = (env.BLOSSOM_TEST_ADAPTERS ?? "memory,pglite")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !["memory", "nats", "pglite", "postgres"].includes(name));
  if (unknown.length > 0) throw new Error(`BLOSSOM_TEST_ADAPTERS: unknown adapter(s) ${unknown.join(", ")}`);
  return {
    bus: names.filter((name): name is "memory" | "nats" => name === "memory" || name === "nats"),
    store: names.filter((name): name is "pglite" | "postgres" => name === "pglite" || name === "postgres"),
    natsUrl: env.BLOSSOM_TEST_NATS_URL ?? "nats://127.0.0.1:4222",
    postgresUrl: env.BLOSSOM_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  };
}
