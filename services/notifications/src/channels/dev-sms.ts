import type { Logger } from "@blossom/runtime";
import type { Channel, OutgoingMessage } from "../domain/channel.js";
import type { NotificationsDb } from "../store/db.js";
import { recordDeviceMessage } from "../store/sinks-store.js";

/**
 * The sms port's development sink: never a real provider. The text is recorded in
 * `device_messages` and logged; a provider adapter (Twilio, SNS, …) would implement `Channel`
 * the same way and look up the user's phone number.
 */
export class DevSmsChannel implements Channel {
  readonly name = "sms" as const;
  readonly adapter = "dev-sms";

  constructor(
    private readonly db: NotificationsDb,
    private readonly logger: Logger,
  ) {}

  async send(message: OutgoingMessage): Promise<void> {
    await recordDeviceMessage(this.db, {
      notificationId: message.notificationId,
      channel: "sms",
      userId: message.userId,
      title: message.subject,
      text: message.body,
    });
    this.logger.info({ notification_id: message.notificationId, user_id: message.userId }, "sms (dev sink)");
  }
}
