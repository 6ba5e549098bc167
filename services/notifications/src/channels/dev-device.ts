import type { Logger } from "@blossom/runtime";
import type { Channel, OutgoingMessage } from "../domain/channel.js";
import type { NotificationsDb } from "../store/db.js";
import { recordDeviceMessage } from "../store/sinks-store.js";

/**
 * The development sink of a device channel (sms, push): never a real provider. The message
 * (subject as title, body as text) is recorded in `device_messages` and logged. `DevSmsChannel`
 * and `DevPushChannel` are this sink for their channel.
 */
export class DevDeviceChannel implements Channel {
  readonly adapter: `dev-${"sms" | "push"}`;

  constructor(
    readonly name: "sms" | "push",
    private readonly db: NotificationsDb,
    private readonly logger: Logger,
  ) {
    this.adapter = `dev-${name}`;
  }

  async send(message: OutgoingMessage): Promise<void> {
    await recordDeviceMessage(this.db, {
      notificationId: message.notificationId,
      channel: this.name,
      userId: message.userId,
      title: message.subject,
      text: message.body,
    });
    this.logger.info(
      { notification_id: message.notificationId, user_id: message.userId },
      `${this.name} (dev sink)`,
    );
  }
}
