import { randomUUID } from "node:crypto";
import { DEFAULT_PREFERENCES, enabledChannels } from "../domain/preferences.js";
import type { RenderedMessage } from "../domain/templates.js";
import type { NotificationsDb } from "../store/db.js";
import { recordNotifications } from "../store/notifications-store.js";
import { findPreferences } from "../store/users-store.js";

/**
 * Records one message for a user as `pending` rows, one per channel the user enabled, inside
 * the inbox transaction (`trx`). Nothing is sent here: the dispatcher delivers after commit.
 * The same event never records a channel twice (unique (source_event_id, channel)).
 */
export async function notify(
  trx: NotificationsDb,
  input: {
    userId: string;
    /** The email address if known; otherwise the dispatcher resolves it from `contacts` at delivery. */
    email: string | undefined;
    message: RenderedMessage;
    sourceEventId: string;
  },
): Promise<number> {
  const preferences = (await findPreferences(trx, input.userId)) ?? DEFAULT_PREFERENCES;
  return recordNotifications(
    trx,
    enabledChannels(preferences).map((channel) => ({
      id: randomUUID(),
      userId: input.userId,
      channel,
      template: input.message.template,
      recipient: channel === "email" ? (input.email ?? null) : input.userId,
      subject: input.message.subject,
      body: channel === "email" ? input.message.body : input.message.short,
      sourceEventId: input.sourceEventId,
    })),
  );
}
