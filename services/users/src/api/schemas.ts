import { SERVICE_NAME_PATTERN } from "@blossom/auth";
import { Type } from "@sinclair/typebox";

export const RegisterUserBody = Type.Object({
  email: Type.String({ format: "email", maxLength: 254 }),
  password: Type.String({ minLength: 8, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("customer"), Type.Literal("admin")]),
});

/** `PATCH /api/users/me`: only the name can be changed here (not the email, never the role). */
export const UpdateMeBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export const LoginBody = Type.Object({
  email: Type.String({ format: "email", maxLength: 254 }),
  // Any length: a too-short password is a wrong password (401), not a malformed request.
  password: Type.String({ minLength: 1, maxLength: 200 }),
});

/**
 * Refresh and logout: the refresh token in the body (JSON mode), or left out when the browser
 * sends it in the `blossom_refresh` cookie (cookie mode, api/refresh-cookie.ts); neither is 400.
 */
export const RefreshTokenBody = Type.Object({
  refreshToken: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 512,
      description: "Required unless the `blossom_refresh` cookie carries the token (cookie mode).",
    }),
  ),
});

/** Answer of login and refresh. */
export const TokenPairView = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.Optional(
    Type.String({
      description:
        "Left out in cookie mode (`Prefer: refresh-token=cookie`, or a refresh from the cookie): the token is in an HttpOnly `Set-Cookie` instead.",
    }),
  ),
  tokenType: Type.Literal("Bearer"),
  /** Seconds until the access token expires. */
  expiresIn: Type.Integer(),
});

/** What a service presents to get a service token (close to OAuth2's client credentials). */
export const ServiceTokenBody = Type.Object({
  service: Type.String({ pattern: SERVICE_NAME_PATTERN, description: "the calling service's name" }),
  credential: Type.String({
    minLength: 1,
    maxLength: 200,
    description: "HMAC-SHA256 of the name under BLOSSOM_SERVICE_SECRET, base64url",
  }),
});

export const ServiceTokenView = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal("Bearer"),
  /** Seconds until the service token expires. */
  expiresIn: Type.Integer(),
});

/** A public Ed25519 key of the JWKS (RFC 7517, RFC 8037): never a private part. */
export const PublicJwkView = Type.Object({
  kty: Type.Literal("OKP"),
  crv: Type.Literal("Ed25519"),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal("EdDSA"),
  use: Type.Literal("sig"),
});

export const JwksView = Type.Object({ keys: Type.Array(PublicJwkView) });
