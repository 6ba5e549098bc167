import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import { KeyRing } from "../auth/key-ring.js";
import { ServiceTokens } from "../auth/service-tokens.js";
import { Sessions } from "../auth/sessions.js";
import { readUsersSettings } from "../settings.js";
import type { UsersTables } from "../store/tables.js";
import { authRoutes } from "./auth-routes.js";
import { jwksRoute } from "./jwks-route.js";
import { serviceTokenRoute } from "./service-token-route.js";
import { usersRoutes } from "./users-routes.js";

/** Every route of the service; loads (or, in development, creates) the signing keys first. */
export async function routes(app: App, context: ServiceContext<UsersTables>): Promise<void> {
  const settings = readUsersSettings(context.settings);
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
  usersRoutes(app, context);
  authRoutes(app, { db: context.db, sessions });
  jwksRoute(app, keys);
  serviceTokenRoute(
    app,
    new ServiceTokens({ keys, secret: settings.serviceSecret, ttlSeconds: settings.serviceTokenTtlSeconds }),
  );
}
