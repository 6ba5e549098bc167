// The `blossom` command line; main.ts starts tracing first, then loads this module.
import { parseArgs } from "node:util";
import { ConfigError, splitList } from "@blossom/runtime";

import { clusterCommand } from "./commands/cluster.js";
import { migrateCommand, UsageError } from "./commands/migrate.js";
import { startCommand } from "./commands/start.js";
import { readConfig } from "./config.js";
import { HELP } from "./help.js";
import { RUNNABLE_NAMES } from "./topology.js";

async function main(argv: string[], environment: Record<string, string | undefined>): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
      steps: { type: "string", default: "1" },
      replicas: { type: "string" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write("blossom 0.1.0\n");
  const [command = "start", ...rest] = positionals;
  if (command === "start") {
    // What to run: the arguments, else BLOSSOM_SERVICE (one image for every service: the
    // container picks its service by environment), else everything.
    const chosen = rest.length > 0 ? rest : splitList(environment.BLOSSOM_SERVICE);
    const unknown = chosen.filter((name) => !RUNNABLE_NAMES.includes(name));
    if (unknown.length > 0)
      throw new UsageError(
        `start: unknown service(s) ${unknown.join(", ")} (one of ${RUNNABLE_NAMES.join(", ")})`,
      );
    const names = chosen.length > 0 ? chosen : RUNNABLE_NAMES;
    // The one place that reads the environment: everything below gets typed configuration.
    return startCommand(readConfig(environment, names), names);
  }
  const config = readConfig(environment);
  if (command === "cluster") {
    if (rest.length > 0) throw new UsageError(`cluster: unexpected ${rest.join(" ")} (use --replicas)`);
    return clusterCommand(config, values.replicas, environment);
  }
  if (command === "migrate") {
    const steps = Number(values.steps);
    if (!Number.isInteger(steps) || steps < 1) throw new UsageError("--steps must be a positive integer");
    return migrateCommand(config, rest[0] ?? "", rest[1], steps);
  }
  throw new UsageError(`unknown command "${command}"`);
}

/** Runs the command line and turns its failures into exit codes (2: usage, 1: failed to start). */
export function runCli(argv: string[], environment: Record<string, string | undefined>): Promise<void> {
  return main(argv, environment).catch((error: unknown) => {
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      process.stderr.write(`blossom: ${(error as Error).message}\n\nRun "blossom --help" for usage.\n`);
      process.exit(2);
    }
    process.stderr.write(
      `blossom: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (error instanceof Error && error.cause)
      process.stderr.write(`  cause: ${String((error.cause as Error).message ?? error.cause)}\n`);
    process.exit(1);
  });
}
