/**
 * The public contract of the users service: the integration events it publishes (TypeBox
 * schemas, validated on publish and on receive) and the internal route other services call.
 * Other services import this package and nothing else of users.
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

/**
 * Where a service exchanges its credential for a service token (`POST`, body
 * `{ service, credential }`). Not under `/api`: the gateway never routes it.
 */
export const SERVICE_TOKEN_PATH = "/internal/auth/service-token";

/**
 * The cookie that carries a browser's refresh token in cookie mode (`HttpOnly; Secure;
 * SameSite=Strict; Path=/api/auth`): the users service sets and reads it, and the gateway passes
 * it on (and no other cookie).
 */
export const REFRESH_COOKIE = "blossom_refresh";

/** The refresh cookie's path: only the sign-in routes (login, refresh, logout) ever receive it. */
export const REFRESH_COOKIE_PATH = "/api/auth";
