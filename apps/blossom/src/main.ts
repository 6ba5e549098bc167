// The entry point, and with the configuration loader the only reader of the environment.
// Tracing first, then the command: a static import of the command would load Fastify and pg
// before the instrumentations that patch them are registered.
import { bootstrapTracing } from "./tracing-bootstrap.js";

const argv = process.argv.slice(2);
await bootstrapTracing(argv, process.env);
const { runCli } = await import("./cli.js");
await runCli(argv, process.env);
