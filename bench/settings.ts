/**
 * How the benchmarks read their BENCH_* variables: each benchmark's options are read once, at the
 * start of its run, through these readers, which apply the default of an unset (or empty) variable
 * and fail with the variable's name and value when it is set to something unusable.
 */

/** A variable's raw value; undefined when it is unset or empty. */
export function benchVariable(name: string): string | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? undefined : raw;
}

/** A positive integer, `fallback` when unset. */
export function positiveInteger(name: string, fallback: number): number {
  return optionalPositiveInteger(name) ?? fallback;
}

/** A positive integer, undefined when unset. */
export function optionalPositiveInteger(name: string): number | undefined {
  const raw = benchVariable(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** A positive number (fractions allowed), undefined when unset. */
export function positiveNumber(name: string): number | undefined {
  const raw = benchVariable(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** The servers of the benchmarks' PostgreSQL, NATS and Redis rows and of the checkout cluster. */
export interface BenchServers {
  postgres: string;
  nats: string;
  redis: string;
}

/** BENCH_POSTGRES_URL, BENCH_NATS_URL and BENCH_REDIS_URL, with the local servers' defaults. */
export function benchServers(): BenchServers {
  return {
    postgres: benchVariable("BENCH_POSTGRES_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres",
    nats: benchVariable("BENCH_NATS_URL") ?? "nats://127.0.0.1:4222",
    redis: benchVariable("BENCH_REDIS_URL") ?? "redis://127.0.0.1:6379",
  };
}
