import { type TProperties, Type } from "@sinclair/typebox";
import { DEFAULT_RETRY_POLICY } from "./domain/retry-policy.js";

const DEFAULT_FROM = "Blossom <no-reply@blossom.local>";

/** The environment variables notifications reads (validated by the launcher, handed to `context.settings`). */
export const notificationsSettings: TProperties = {
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

export interface NotificationsSettings {
  smtpUrl: string | undefined;
  smtpFrom: string;
  maxAttempts: number;
}

/**
 * The typed values of `context.settings`. The launcher has validated them and applied the
 * defaults; a host built by hand (tests) may pass fewer, so the defaults apply here again.
 */
export function readSettings(values: Readonly<Record<string, unknown>>): NotificationsSettings {
  const url = values.NOTIFICATIONS_SMTP_URL;
  const from = values.NOTIFICATIONS_SMTP_FROM;
  const attempts = values.NOTIFICATIONS_MAX_ATTEMPTS;
  return {
    smtpUrl: typeof url === "string" && url !== "" ? url : undefined,
    smtpFrom: typeof from === "string" && from !== "" ? from : DEFAULT_FROM,
    maxAttempts:
      typeof attempts === "number" && Number.isInteger(attempts) && attempts >= 1
        ? attempts
        : DEFAULT_RETRY_POLICY.maxAttempts,
  };
}
