import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import { KeyRing } from "../auth/key-ring.js";
import { openLimitCounters } from "../auth/limit-counters.js";
import { LoginLimits, SignUpLimits } from "../auth/login-limits.js";
import { ServiceTokens } from "../auth/service-tokens.js";
import { Sessions } from "../auth/sessions.js";
import { readUsersSettings } from "../settings.js";
import type { UsersTables } from "../store/tables.js";
import { authRoutes } from "./auth-routes.js";
import { clientAddressOf } from "./client-address.js";
import { jwksRoute } from "./jwks-route.js";
import { serviceTokenRoute } from "./service-token-route.js";
import { usersRoutes } from "./users-routes.js";

/** Every route of the service; loads (or, in development, creates) the signing keys first. */
export async function routes(app: App, context: ServiceContext<UsersTables>): Promise<void> {
  const settings = readUsersSettings(context.settings, context.environment);
  const keys = await KeyRing.open({
    db: context.db,
    logger: context.logger,
    environment: context.environment,
    // A retired key stays published as long as any token it signed may live, service tokens included.
    accessTokenTtlSeconds: Math.max(settings.accessTokenTtlSeconds, settings.serviceTokenTtlSeconds),
    configuredKey: settings.signingKey,
  });
  const sessions = new Sessions({
    db: context.db,
    keys,
    logger: context.logger,
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: settings.refreshTokenTtlSeconds,
  });
  const { limits } = settings;
  const anyLimit =
    limits.login !== undefined || limits.loginAddress !== undefined || limits.signUp !== undefined;
  // With every limit off (NODE_ENV=test, nothing set) no counter is ever touched: no Redis either.
  const counters = await openLimitCounters(anyLimit ? settings.redisUrl : undefined, context.logger);
  app.addHook("onClose", async () => {
    await counters.close();
  });
  if (!anyLimit) context.logger.info("login and sign-up limits are off (NODE_ENV=test, none set)");
  const clientAddress = clientAddressOf(settings.trustedProxies);
  usersRoutes(app, context, { signUps: new SignUpLimits(counters, limits.signUp), clientAddress });
  authRoutes(app, {
    db: context.db,
    sessions,
    limits: new LoginLimits(counters, limits),
    clientAddress,
  });
  jwksRoute(app, keys);
  serviceTokenRoute(
    app,
    new ServiceTokens({ keys, secret: settings.serviceSecret, ttlSeconds: settings.serviceTokenTtlSeconds }),
  );
}
