import type { MessagingTables } from "@blossom/bus";
import type { Kysely } from "kysely";
import type { NotificationsTables } from "./tables.js";

/** The service's database, or a transaction on it (a Kysely `Transaction` is a `Kysely`). */
export type NotificationsDb = Kysely<NotificationsTables & MessagingTables>;
