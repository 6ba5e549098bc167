/**
 * Test support (not part of the build): orders started by the test kit (`startServiceForTest`,
 * the real host on PGlite and the memory bus) with a stand-in inventory that prices every product
 * at 1250, so its suites need no inventory service.
 */
import { ServiceClient, StaticDiscovery } from "@blossom/client";
import { type ServiceUnderTest, startServiceForTest } from "@blossom/testkit";
import Fastify from "fastify";
import type { OrdersSettingsSchema } from "../api/settings.js";
import { ordersService } from "../service.js";
import type { OrdersTables } from "../store/tables.js";

export interface OrdersUnderTest extends ServiceUnderTest<OrdersTables, OrdersSettingsSchema> {
  /** How many times orders asked the stand-in inventory for prices. */
  priceRequests(): number;
}

/** Orders with the stand-in inventory; `close()` stops both. */
export async function startOrders(settings?: Record<string, unknown>): Promise<OrdersUnderTest> {
  let priceRequests = 0;
  const inventory = Fastify();
  inventory.get("/internal/inventory/prices", async (request) => {
    priceRequests++;
    return {
      items: String((request.query as { ids: string }).ids)
        .split(",")
        .map((id) => ({ id, price: { amount: 1250, currency: "USD" } })),
    };
  });
  const inventoryUrl = await inventory.listen({ port: 0, host: "127.0.0.1" });
  const client = new ServiceClient({
    service: "inventory",
    discovery: new StaticDiscovery({ inventory: [inventoryUrl] }),
  });
  const orders = await startServiceForTest(ordersService, {
    clients: { get: () => client },
    ...(settings ? { settings } : {}),
  }).catch(async (error: unknown) => {
    await client.close();
    await inventory.close();
    throw error;
  });
  const closeService = orders.close;
  return Object.assign(orders, {
    priceRequests: () => priceRequests,
    async close(closeOptions?: { keepData?: boolean }) {
      await closeService(closeOptions);
      await client.close();
      await inventory.close();
    },
  });
}

/** A valid `POST /api/orders` body: `quantity` of one product, a saved card, an address in the US. */
export function orderBody(quantity: number) {
  return {
    items: [{ productId: "p-lamp", quantity }],
    paymentMethodId: "pm_1",
    shippingAddress: {
      name: "Ann",
      line1: "1 Main St",
      city: "Springfield",
      postalCode: "12345",
      country: "US",
    },
  };
}
