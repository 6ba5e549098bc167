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
  /** Access-token signing keys: the current one and the retired ones still published. */
  signing_keys: {
    kid: string;
    /** The public JWK as JSON text. */
    public_jwk: string;
    /** The private JWK as JSON text; null for a key given by USERS_SIGNING_KEY (it stays in the secret store). */
    private_jwk: string | null;
    created_at: Date;
    retired_at: Date | null;
  };
  /** Refresh tokens, by the SHA-256 of the token (the token itself is never stored). */
  refresh_tokens: {
    id: string;
    token_hash: string;
    family_id: string;
    user_id: string;
    created_at: Generated<Date>;
    expires_at: Date;
    used_at: Date | null;
    revoked_at: Date | null;
  };
}
