import type { Logger } from "@blossom/runtime";
import type { Channel, OutgoingMessage } from "../domain/channel.js";
import type { NotificationsDb } from "../store/db.js";
import { recordDeviceMessage } from "../store/sinks-store.js";

/**
 * The push port's development sink: never a real provider. The notification (title and text)
 * is recorded in `device_messages` and logged; a provider adapter (FCM, APNs, …) would implement
 * `Channel` the same way and look up the user's device tokens.
 */
export class DevPushChannel implements Channel {
  readonly name = "push" as const;
  readonly adapter = "dev-push";

  constructor(
    private readonly db: NotificationsDb,
    private readonly logger: Logger,
  ) {}

  async send(message: OutgoingMessage): Promise<void> {
    await recordDeviceMessage(this.db, {
      notificationId: message.notificationId,
      channel: "push",
      userId: message.userId,
      title: message.subject,
      text: message.body,
    });
    this.logger.info({ notification_id: message.notificationId, user_id: message.userId }, "push (dev sink)");
  }
}
