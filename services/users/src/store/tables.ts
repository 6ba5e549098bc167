import type { Generated } from "kysely";

export interface UsersTables {
  users: {
    id: string;
    email: string;
    name: string;
    password_hash: string;
    role: "customer" | "admin";
    created_at: Generated<Date>;
  };
}
