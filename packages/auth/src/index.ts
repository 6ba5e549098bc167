export { type Principal, type Role, TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER } from "./claims.js";
export { registerAuthentication, requireAdmin, requireUser } from "./request-auth.js";
export { InvalidTokenError, TokenVerifier, type TokenVerifierOptions } from "./token-verifier.js";
