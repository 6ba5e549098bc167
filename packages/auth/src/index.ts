export {
  type Identity,
  type Principal,
  type Role,
  SERVICE_NAME_PATTERN,
  SERVICE_SUBJECT_PREFIX,
  SERVICE_TOKEN_AUDIENCE,
  type ServicePrincipal,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "./claims.js";
export {
  ROUTE_ACCESS,
  type RouteAccess,
  registerAuthentication,
  requireAdmin,
  requireService,
  requireUser,
  unauthorized,
} from "./request-auth.js";
export {
  DEVELOPMENT_SERVICE_SECRET,
  isServiceCredential,
  serviceCredential,
  serviceSecretProblems,
} from "./service-credentials.js";
export {
  type IssuedServiceToken,
  ServiceTokenProvider,
  type ServiceTokenProviderOptions,
} from "./service-token-provider.js";
export { InvalidTokenError, TokenVerifier, type TokenVerifierOptions } from "./token-verifier.js";
