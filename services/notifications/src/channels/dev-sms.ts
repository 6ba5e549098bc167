import type { Logger } from "@blossom/runtime";
import type { NotificationsDb } from "../store/db.js";
import { DevDeviceChannel } from "./dev-device.js";

/**
 * The sms port's development sink: never a real provider. The text is recorded in
 * `device_messages` and logged; a provider adapter (Twilio, SNS, …) would implement `Channel`
 * the same way and look up the user's phone number.
 */
export class DevSmsChannel extends DevDeviceChannel {
  constructor(db: NotificationsDb, logger: Logger) {
    super("sms", db, logger);
  }
}
