import { defineEvent } from "@blossom/bus";
import { Type } from "@sinclair/typebox";

/** Published when an account is created. Carries no secret: only what consumers may use. */
export const UserRegistered = defineEvent(
  "users.user-registered.v1",
  Type.Object({
    userId: Type.String(),
    email: Type.String({ format: "email" }),
    name: Type.String(),
  }),
  "An account was created (sign-up or seed).",
);

export const usersEvents = [UserRegistered];
