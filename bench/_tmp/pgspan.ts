import { startTracing } from "@blossom/telemetry";
const on = process.argv[2] === "on";
if (on) startTracing({ serviceName: "x", version: "1", environment: "test", env: { ...process.env, OTEL_NODE_DISABLED_INSTRUMENTATIONS: process.argv[3] ?? "" }, bufferSpans: Number(process.argv[4] ?? 10000) });
const { openPostgres } = await import("@blossom/store");
const { sql } = await import("kysely");
const { trace, context } = await import("@opentelemetry/api");
const store = await openPostgres<Record<string, never>>({ service: "pgspan", url: "postgres://postgres@127.0.0.1:5432/postgres" });
const tracer = trace.getTracer("t");
async function work(n: number) {
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan("parent");
    await context.with(trace.setSpan(context.active(), span), async () => {
      await store.db.transaction().execute(async (trx) => {
        await sql`select ${i}::int as x`.execute(trx);
        await sql`select 1 as y where ${i}::int > 0`.execute(trx);
      });
    });
    span.end();
  }
}
await work(500);
const c0 = process.cpuUsage(); const t0 = performance.now();
await work(3000);
const c = process.cpuUsage(c0); const ms = performance.now() - t0;
console.log(process.argv.slice(2).join(" "), "cpu us per tx(4 stmts)", Math.round((c.user + c.system) / 3000), "wall ms", Math.round(ms));
await store.close();
