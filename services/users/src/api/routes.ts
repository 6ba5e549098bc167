import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import { HashQueue, hashConcurrency } from "../auth/hash-queue.js";
import { KeyRing } from "../auth/key-ring.js";
import { openLimitCounters } from "../auth/limit-counters.js";
import { LoginLimits, SignUpLimits } from "../auth/login-limits.js";
import { ServiceTokens } from "../auth/service-tokens.js";
import { Sessions } from "../auth/sessions.js";
import { type UsersSettingsSchema, usersConfig } from "../settings.js";
import type { UsersTables } from "../store/tables.js";
import { authRoutes } from "./auth-routes.js";
import { clientAddressOf } from "./client-address.js";
import { jwksRoute } from "./jwks-route.js";
import { serviceTokenRoute } from "./service-token-route.js";
import { usersRoutes } from "./users-routes.js";

/**
 * How long a sign-up or login may take: a queue for the hashing slots, one scrypt, the database.
 * Declared on those routes (`config.budgetMs`), so the gateway waits that long for them instead
 * of its usual 2 s; the service refuses (503) what it could not finish within half of it.
 */
export const PASSWORD_ROUTE_BUDGET_MS = 10_000;

/**
 * Every route of the service; derives what its settings need parsed (`usersConfig`, once, here)
 * and loads (or, in development, creates) the signing keys first.
 */
export async function routes(
  app: App,
  context: ServiceContext<UsersTables, UsersSettingsSchema>,
): Promise<void> {
  const { settings } = context;
  const { signingKey, limits, trustedProxies } = usersConfig(settings);
  const keys = await KeyRing.open({
    db: context.db,
    logger: context.logger,
    environment: context.environment,
    // A retired key stays published as long as any token it signed may live, service tokens included.
    accessTokenTtlSeconds: Math.max(
      settings.USERS_ACCESS_TOKEN_TTL_SECONDS,
      settings.USERS_SERVICE_TOKEN_TTL_SECONDS,
    ),
    configuredKey: signingKey,
  });
  const sessions = new Sessions({
    db: context.db,
    keys,
    logger: context.logger,
    accessTokenTtlSeconds: settings.USERS_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: settings.USERS_REFRESH_TOKEN_TTL_SECONDS,
  });
  const counters = await openLimitCounters(settings.REDIS_URL, context.logger);
  app.addHook("onClose", async () => {
    await counters.close();
  });
  const clientAddress = clientAddressOf(trustedProxies);
  const passwordHashCost = settings.USERS_PASSWORD_HASH_COST;
  // Sign-ups and logins share the machine's hashing slots; each may wait for them up to half its
  // budget (the rest is for the database and the limit store), and is refused 503 past it.
  const hashing = new HashQueue({
    concurrency: hashConcurrency(settings.UV_THREADPOOL_SIZE),
    maxWaiting: settings.USERS_PASSWORD_HASH_QUEUE,
    budgetMs: PASSWORD_ROUTE_BUDGET_MS / 2,
  });
  usersRoutes(app, context, {
    signUps: new SignUpLimits(counters, limits.signUp),
    clientAddress,
    passwordHashCost,
    hashing,
    budgetMs: PASSWORD_ROUTE_BUDGET_MS,
  });
  authRoutes(app, {
    db: context.db,
    sessions,
    limits: new LoginLimits(counters, limits),
    clientAddress,
    passwordHashCost,
    refreshTokenTtlSeconds: settings.USERS_REFRESH_TOKEN_TTL_SECONDS,
    hashing,
    budgetMs: PASSWORD_ROUTE_BUDGET_MS,
  });
  jwksRoute(app, keys);
  serviceTokenRoute(
    app,
    new ServiceTokens({
      keys,
      secret: settings.BLOSSOM_SERVICE_SECRET,
      ttlSeconds: settings.USERS_SERVICE_TOKEN_TTL_SECONDS,
    }),
  );
}
