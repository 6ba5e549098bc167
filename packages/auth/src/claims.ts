/** What every Blossom access token says, and what every verifier insists on. */
export const TOKEN_ISSUER = "blossom-users";
export const TOKEN_AUDIENCE = "blossom";
/** Ed25519 signatures: small keys, fast verification, no parameter choices to get wrong. */
export const TOKEN_ALGORITHM = "EdDSA";

export type Role = "customer" | "admin";

/** Who is calling: a signed-in user (with a role). */
export interface Principal {
  userId: string;
  role: Role;
  email?: string;
}
