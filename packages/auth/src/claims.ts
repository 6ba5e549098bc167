/** What every Blossom access token says, and what every verifier insists on. */
export const TOKEN_ISSUER = "blossom-users";
export const TOKEN_AUDIENCE = "blossom";
/** Ed25519 signatures: small keys, fast verification, no parameter choices to get wrong. */
export const TOKEN_ALGORITHM = "EdDSA";

/**
 * The audience of service tokens (one service calling another). Distinct from the users'
 * audience, so that a service token never passes as a user's access token (nor, through the
 * gateway, as anything at all), and a user's token never passes as a service's.
 */
export const SERVICE_TOKEN_AUDIENCE = "blossom-internal";
/** A service token's subject is `service:<name>`; no user id starts like this. */
export const SERVICE_SUBJECT_PREFIX = "service:";
/** What a service name may look like (the names of the topology: `users`, `orders`, …). */
export const SERVICE_NAME_PATTERN = "^[a-z][a-z0-9-]{0,62}$";

export type Role = "customer" | "admin";

/** Who is calling: a signed-in user (with a role). */
export interface Principal {
  userId: string;
  role: Role;
  email?: string;
}

/** Who is calling: another Blossom service, by name. */
export interface ServicePrincipal {
  service: string;
}

/** What a verified token says about its bearer: a user, or a service — never both. */
export type Identity = { kind: "user"; user: Principal } | { kind: "service"; service: ServicePrincipal };
