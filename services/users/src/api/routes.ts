import { randomUUID } from "node:crypto";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { isUniqueViolation } from "@blossom/store";
import { normalizeEmail } from "../domain/email.js";
import { hashPassword } from "../domain/password.js";
import { UserRegistered } from "../events/contracts.js";
import type { UsersTables } from "../store/tables.js";
import { insertUser } from "../store/users-store.js";
import { RegisterUserBody, UserView } from "./schemas.js";

export function usersRoutes(app: App, context: ServiceContext<UsersTables>): void {
  app.post(
    "/api/users",
    { schema: { body: RegisterUserBody, response: { 201: UserView } } },
    async (request, reply) => {
      const id = randomUUID();
      const email = normalizeEmail(request.body.email);
      const { name } = request.body;
      const passwordHash = await hashPassword(request.body.password);
      try {
        await context.transaction(async (trx) => {
          await insertUser(trx, { id, email, name, passwordHash, role: "customer" });
          await context.outbox.add(trx, UserRegistered, id, { userId: id, email, name });
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new HttpProblem({
            status: 409,
            slug: "email-taken",
            title: "Email already registered",
            detail: `${email} already has an account`,
          });
        }
        throw error;
      }
      return reply.code(201).send({ id, email, name, role: "customer" as const });
    },
  );
}
