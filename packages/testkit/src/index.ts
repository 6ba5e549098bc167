export { type TestAdapters, testAdapters } from "./adapters.js";
