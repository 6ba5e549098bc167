import type { Logger } from "@blossom/runtime";
import type { NotificationsDb } from "../store/db.js";
import { DevDeviceChannel } from "./dev-device.js";

/**
 * The push port's development sink: never a real provider. The notification (title and text)
 * is recorded in `device_messages` and logged; a provider adapter (FCM, APNs, …) would implement
 * `Channel` the same way and look up the user's device tokens.
 */
export class DevPushChannel extends DevDeviceChannel {
  constructor(db: NotificationsDb, logger: Logger) {
    super("push", db, logger);
  }
}
