import type { ChannelName } from "./channel.js";

/** Which channels a user wants to be reached on. */
export interface Preferences {
  readonly email: boolean;
  readonly sms: boolean;
  readonly push: boolean;
}

/** What a user who never chose gets: email only (sms and push need an opt-in). */
export const DEFAULT_PREFERENCES: Preferences = Object.freeze({ email: true, sms: false, push: false });

/** The channels a message goes out on, in a stable order. */
export function enabledChannels(preferences: Preferences): ChannelName[] {
  return (["email", "sms", "push"] as const).filter((channel) => preferences[channel]);
}
