import { withDatabaseName } from "@blossom/store";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";

/** One invariant over the whole run: its name, whether it held, and what broke it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs `query` against one service's own database (`<prefix>_<service>`), read-only. */
export async function queryService<R extends pg.QueryResultRow>(
  postgresUrl: string,
  database: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: withDatabaseName(postgresUrl, database) });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Units on hand per product (`stock`, which still includes the units reserved). */
export async function stockByProduct(postgresUrl: string, prefix: string): Promise<Map<string, number>> {
  const rows = await queryService<{ id: string; stock: number }>(
    postgresUrl,
    `${prefix}_inventory`,
    "SELECT id, stock FROM products",
  );
  return new Map(rows.map((row) => [row.id, row.stock]));
}

/** Drops every PostgreSQL connection of a database but this one: what a failover or a DBA's kill does. */
export async function terminateBackends(postgresUrl: string, database: string): Promise<number> {
  const rows = await queryService<{ terminated: boolean }>(
    postgresUrl,
    "postgres",
    "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    [database],
  );
  return rows.filter((row) => row.terminated).length;
}

interface Subject {
  postgresUrl: string;
  natsUrl: string;
  prefix: string;
  /** Stock of each product before the load started. */
  initialStock: Map<string, number>;
  /** Ids the gateway answered 202 for. */
  accepted: string[];
}

const count = <K>(map: Map<K, number>, key: K, by: number) => map.set(key, (map.get(key) ?? 0) + by);
const sample = (items: string[]) =>
  `${items.slice(0, 5).join("; ")}${items.length > 5 ? ` (+${items.length - 5})` : ""}`;
const verdict = (name: string, broken: string[], fine: string): Check => ({
  name,
  ok: broken.length === 0,
  detail: broken.length === 0 ? fine : sample(broken),
});

/**
 * The platform's invariants after a chaos run, read straight from each service's database and
 * from JetStream (never through the APIs under test):
 * - every order (accepted or not seen by the client) reached `confirmed` or `cancelled`;
 * - no payment captured twice (at most one `payment-captured` event id per order);
 * - every confirmed order has a captured payment, and no cancelled order keeps one;
 * - stock conserved per product: initial = available + reserved + sold, with sold the units of
 *   committed reservations, equal to the units of the confirmed orders;
 * - nothing in the dead-letter stream (no handler should have given up on any event).
 */
export async function checkInvariants(subject: Subject): Promise<Check[]> {
  const { postgresUrl, prefix } = subject;
  const orders = await queryService<{
    id: string;
    status: string;
    items: Array<{ productId: string; quantity: number }>;
  }>(postgresUrl, `${prefix}_orders`, "SELECT id, status, items FROM orders");
  const payments = await queryService<{ order_id: string; status: string }>(
    postgresUrl,
    `${prefix}_payments`,
    "SELECT order_id, status FROM payments",
  );
  const products = await queryService<{ id: string; stock: number; reserved: number }>(
    postgresUrl,
    `${prefix}_inventory`,
    "SELECT id, stock, reserved FROM products",
  );
  const lines = await queryService<{ product_id: string; quantity: number; status: string; held: boolean }>(
    postgresUrl,
    `${prefix}_inventory`,
    "SELECT l.product_id, l.quantity, r.status, l.held FROM reservation_lines l JOIN reservations r USING (order_id)",
  );
  const events = await natsFacts(subject.natsUrl, prefix);

  const statusOf = new Map(orders.map((order) => [order.id, order.status]));
  const paymentOf = new Map(payments.map((payment) => [payment.order_id, payment.status]));
  const checks: Check[] = [];

  checks.push(
    verdict(
      "every accepted order reached confirmed or cancelled",
      [
        ...subject.accepted.filter((id) => !statusOf.has(id)).map((id) => `${id} accepted but not stored`),
        ...orders.filter((order) => order.status === "pending").map((order) => `${order.id} still pending`),
      ],
      `${subject.accepted.length} accepted, ${orders.length} stored, none pending`,
    ),
  );

  checks.push(
    verdict(
      "no payment captured twice",
      [...events.capturesByOrder]
        .filter(([, ids]) => ids.size > 1)
        .map(([order, ids]) => `${order} captured ${ids.size} times`),
      `${events.capturesByOrder.size} captures, one per order`,
    ),
  );

  const confirmed = orders.filter((order) => order.status === "confirmed");
  checks.push(
    verdict(
      "no confirmed order without a captured payment",
      confirmed
        .filter((order) => paymentOf.get(order.id) !== "captured")
        .map((order) => `${order.id}: payment ${paymentOf.get(order.id) ?? "missing"}`),
      `${confirmed.length} confirmed, each captured`,
    ),
  );
  checks.push(
    verdict(
      "no cancelled order keeps a captured payment",
      orders
        .filter((order) => order.status === "cancelled" && paymentOf.get(order.id) === "captured")
        .map((order) => order.id),
      `${orders.length - confirmed.length} cancelled, none captured`,
    ),
  );

  const sold = new Map<string, number>();
  const held = new Map<string, number>();
  for (const line of lines) {
    if (line.status === "committed") count(sold, line.product_id, line.quantity);
    if (line.status === "active" && line.held) count(held, line.product_id, line.quantity);
  }
  const ordered = new Map<string, number>();
  for (const order of confirmed)
    for (const item of order.items) count(ordered, item.productId, item.quantity);
  const stockProblems: string[] = [];
  for (const product of products) {
    const initial = subject.initialStock.get(product.id) ?? 0;
    const available = product.stock - product.reserved;
    const unitsSold = sold.get(product.id) ?? 0;
    if (initial !== available + product.reserved + unitsSold)
      stockProblems.push(
        `${product.id}: initial ${initial} ≠ available ${available} + reserved ${product.reserved} + sold ${unitsSold}`,
      );
    if (product.reserved !== (held.get(product.id) ?? 0))
      stockProblems.push(`${product.id}: reserved ${product.reserved} ≠ held ${held.get(product.id) ?? 0}`);
    if (unitsSold !== (ordered.get(product.id) ?? 0))
      stockProblems.push(`${product.id}: sold ${unitsSold} ≠ confirmed ${ordered.get(product.id) ?? 0}`);
  }
  const totalSold = [...sold.values()].reduce((sum, units) => sum + units, 0);
  checks.push(
    verdict(
      "stock conserved (initial = available + reserved + sold)",
      stockProblems,
      `${products.length} products, ${totalSold} units sold = units of confirmed orders`,
    ),
  );

  checks.push(
    verdict(
      "no dead letters",
      [...events.deadLetters].map(([subject_, messages]) => `${subject_}: ${messages}`),
      "dead-letter stream empty",
    ),
  );
  return checks;
}

/** Reads the payments domain's `payment-captured` events and the dead-letter stream's subjects. */
async function natsFacts(natsUrl: string, prefix: string) {
  const streamPrefix = prefix.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  const nc = await connect({ servers: natsUrl, name: "blossom chaos test" });
  try {
    const jsm = await jetstreamManager(nc);
    const capturesByOrder = new Map<string, Set<string>>();
    const stream = `${streamPrefix}_EVT_PAYMENTS`;
    const captured = `${prefix}.evt.payments.payment-captured.v1`;
    const info = await jsm.streams.info(stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
      const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!message || message.subject !== captured) continue;
      const event = message.json<{ id: string; data: { orderId: string } }>();
      const ids = capturesByOrder.get(event.data.orderId) ?? new Set<string>();
      capturesByOrder.set(event.data.orderId, ids.add(event.id));
    }
    const deadLetters = new Map<string, number>();
    // No stream = no dead letter was ever written (the stream is created with the first one).
    const dlq = await jsm.streams
      .info(`${streamPrefix}_DLQ`, { subjects_filter: ">" })
      .catch((error: unknown) => {
        if (/stream not found/i.test(String(error))) return undefined;
        throw error;
      });
    for (const [subject, messages] of Object.entries(dlq?.state.subjects ?? {}))
      deadLetters.set(subject, messages);
    return { capturesByOrder, deadLetters };
  } finally {
    await nc.close();
  }
}
