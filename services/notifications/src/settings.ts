import { Type } from "@sinclair/typebox";
import { DEFAULT_RETRY_POLICY } from "./domain/retry-policy.js";

const DEFAULT_FROM = "Blossom <no-reply@blossom.local>";

/** The environment variables notifications reads (resolved before it starts, handed to `context.settings`). */
export const notificationsSettings = {
  NOTIFICATIONS_SMTP_URL: Type.Optional(
    Type.String({
      pattern: "^smtps?://",
      description: "SMTP server for email (smtp://[user:pass@]host:port); unset = the local mailbox table",
    }),
  ),
  NOTIFICATIONS_SMTP_FROM: Type.String({
    minLength: 3,
    default: DEFAULT_FROM,
    description: "From address of the emails sent through SMTP",
  }),
  NOTIFICATIONS_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: DEFAULT_RETRY_POLICY.maxAttempts,
    description: "delivery attempts per notification before it is marked failed",
  }),
};

export type NotificationsSettingsSchema = typeof notificationsSettings;
