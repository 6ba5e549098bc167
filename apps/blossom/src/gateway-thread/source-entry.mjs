// The gateway's thread when the platform runs from its TypeScript sources (`npm start` after an
// edit, the tests): Node's --import does not reach a worker's entry point, so tsx is registered
// here, in plain JavaScript, before the TypeScript entry point is loaded.
import { register } from "tsx/esm/api";

register();
await import("./gateway-worker.ts");
