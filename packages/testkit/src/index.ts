export { type TestAdapters, testAdapters } from "./adapters.js";
export {
  BLOSSOM_BUILT_ENTRY,
  BLOSSOM_ENTRY,
  type BlossomEntry,
  type BlossomProcess,
  deathOf,
  isAlive,
  killAll,
  REPOSITORY_ROOT,
  spawnBlossom,
  spawnNode,
  waitForReady,
} from "./blossom-process.js";
export { slowBody } from "./bodies.js";
export { type ClusterRow, readClusterTable, waitForClusterReady } from "./cluster.js";
export {
  type StoreAdapter,
  type TestDatabase,
  type TestStoreFactory,
  testStoreFactories,
} from "./databases.js";
export { callHttp, type HttpAnswer, type HttpRequest } from "./http.js";
export {
  clearedPlatformEnv,
  GENEROUS_USERS_LIMITS,
  TEST_PASSWORD_HASH_COST,
  testEnv,
} from "./platform-env.js";
export { freePort } from "./ports.js";
export {
  type LogLine,
  type ServiceTestOptions,
  type ServiceUnderTest,
  startServiceForTest,
} from "./service.js";
export { type TestSigningKey, type TokenClaims, testSigningKey } from "./signing.js";
export { makeTempDir } from "./temp-dirs.js";
export { eventually } from "./wait.js";
