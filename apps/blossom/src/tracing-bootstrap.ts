import { startTracing } from "@blossom/telemetry";

/**
 * Starts OpenTelemetry before anything else is loaded: the HTTP and pg instrumentations patch
 * modules as they are required, so Fastify and pg must come after. Imports nothing of Blossom's
 * but the telemetry package, and reads the few variables it needs itself (the full
 * configuration is validated later, by the command).
 */
export async function bootstrapTracing(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<void> {
  if (argv.some((arg) => ["-h", "--help", "--version"].includes(arg))) return;
  const [command = "start", ...names] = argv.filter((arg) => !arg.startsWith("-"));
  if (command !== "start") return;
  const buffer = Number(env.BLOSSOM_TRACE_BUFFER_SPANS ?? "10000");
  await startTracing({
    // One service per process: the service's name; several: the platform's.
    serviceName: names.length === 1 && names[0] ? names[0] : "blossom",
    version: "0.1.0",
    environment: env.NODE_ENV || "development",
    // An invalid value is reported by the configuration check that follows; keep the default meanwhile.
    ...(Number.isInteger(buffer) && buffer >= 0 ? { bufferSpans: buffer } : {}),
    usesPg: usesPostgres(env),
    env,
  });
}

/**
 * Whether any service of this process may use PostgreSQL: a database URL is set
 * (DATABASE_URL, <SERVICE>_DATABASE_URL or BLOSSOM_POSTGRES_URL). Otherwise every store is
 * PGlite and `pg` is never loaded.
 */
export function usesPostgres(env: Record<string, string | undefined>): boolean {
  return Object.entries(env).some(
    ([name, value]) =>
      (name.endsWith("DATABASE_URL") || name === "BLOSSOM_POSTGRES_URL") && Boolean(value?.trim()),
  );
}
