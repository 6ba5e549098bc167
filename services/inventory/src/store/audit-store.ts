import { randomUUID } from "node:crypto";
import { recordAudit } from "@blossom/host";
import type { InventoryDb } from "./products-store.js";

export type AdminAction = "product.created" | "product.updated" | "stock.adjusted";

export interface AdminChange {
  actorId: string;
  action: AdminAction;
  productId: string;
  details: Record<string, unknown>;
}

/**
 * Records an admin's write in the same transaction as the write itself, for the audit log that
 * comes later: who did what to which product, and the values involved.
 */
export async function recordAdminChange(trx: InventoryDb, change: AdminChange): Promise<void> {
  await trx
    .insertInto("admin_changes")
    .values({
      id: randomUUID(),
      actor_id: change.actorId,
      action: change.action,
      product_id: change.productId,
      details: JSON.stringify(change.details),
    })
    .execute();
  await recordAudit(trx, {
    actor: change.actorId,
    action: change.action,
    target: change.productId,
    details: change.details,
  });
}
