/**
 * The public contract of the users service: the integration events it publishes (TypeBox
 * schemas, validated on publish and on receive). Other services import this package and nothing
 * else of users.
 */
import { defineEvent } from "@blossom/event-contracts";
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
