import type { Static } from "@sinclair/typebox";
import type { UserRow } from "../store/users-store.js";
import type { UserView } from "./schemas.js";

/** What a client may see of an account: never the password hash. */
export function toUserView(row: UserRow): Static<typeof UserView> {
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}
