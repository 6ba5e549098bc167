export { addressBucket } from "./address-bucket.js";
export { FailoverLimitStore, type FailoverLimitStoreOptions } from "./failover-limit-store.js";
export type { Counter, LimitStore, Quota, TakeResult } from "./limit-store.js";
export { MemoryLimitStore, type MemoryLimitStoreOptions } from "./memory-limit-store.js";
export {
  type RedisConnectOptions,
  RedisLimitStore,
  type RedisLimitStoreOptions,
} from "./redis-limit-store.js";
