/** The ways Blossom reaches a user. */
export const CHANNELS = ["email", "sms", "push"] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** One rendered message on its way to one recipient. */
export interface OutgoingMessage {
  /** The notification's id: adapters use it to make a repeated send recognisable (Message-ID, dedupe key). */
  readonly notificationId: string;
  readonly userId: string;
  /** An email address for email; the user id for sms and push (the provider resolves the device). */
  readonly recipient: string;
  readonly subject: string;
  readonly body: string;
}

/**
 * The port every delivery adapter implements (SMTP, the local mailbox, the sms and push sinks).
 * `send` resolves once the message is handed over; it throws to ask for a retry, or throws a
 * `PermanentDeliveryError` when retrying cannot help (the address does not exist).
 */
export interface Channel {
  readonly name: ChannelName;
  /** Which adapter this is, for logs ("smtp", "mailbox", "dev-sms", …). */
  readonly adapter: string;
  send(message: OutgoingMessage): Promise<void>;
  /** Releases connections; called once when the dispatcher stops. */
  close?(): Promise<void>;
}

/** A channel for each name: what the dispatcher delivers through. */
export type Channels = Readonly<Record<ChannelName, Channel>>;

/** A refusal that no retry will change: the notification fails at once. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentDeliveryError";
  }
}
