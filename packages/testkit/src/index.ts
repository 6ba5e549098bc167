export { type TestAdapters, testAdapters } from "./adapters.js";
export {
  type StoreAdapter,
  type TestDatabase,
  type TestStoreFactory,
  testStoreFactories,
} from "./databases.js";
