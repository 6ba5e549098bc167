import type { ColumnType, Generated } from "kysely";

export type NotificationStatus = "pending" | "sending" | "sent" | "failed";

export interface NotificationsTables {
  /** One row per message and channel; the dispatcher's work queue. */
  notifications: {
    id: string;
    user_id: string;
    channel: "email" | "sms" | "push";
    template: string;
    /** The email address (null until known: resolved from `contacts` at delivery), or the user id for sms/push. */
    recipient: string | null;
    subject: string;
    body: string;
    status: NotificationStatus;
    source_event_id: string;
    created_at: Generated<Date>;
    /** Insertion order: the list's sort key and cursor. */
    seq: ColumnType<number, never, never>;
    /** Attempts started so far (a claim counts as one). */
    attempts: Generated<number>;
    next_attempt_at: Generated<Date>;
    /** Which dispatcher pass holds the row while `sending`, and until when. */
    claim_token: string | null;
    claimed_until: Date | null;
    sent_at: Date | null;
    last_error: string | null;
  };
  /** The local copy of each user's contact details (from users.user-registered.v1). */
  contacts: {
    user_id: string;
    email: string;
    name: string;
    updated_at: Generated<Date>;
  };
  /** Channel choices; a user without a row has the defaults. */
  preferences: {
    user_id: string;
    email: boolean;
    sms: boolean;
    push: boolean;
    updated_at: Generated<Date>;
  };
  /** Orders seen in order events: who to tell about a refund (payment events carry no user id). */
  known_orders: {
    order_id: string;
    user_id: string;
    /** The cancellation notice already said a refund was issued. */
    refund_announced: Generated<boolean>;
  };
  /** The platform's local mailbox: email delivered when no SMTP server is configured. */
  mailbox: {
    notification_id: string;
    recipient: string;
    subject: string;
    body: string;
    delivered_at: Generated<Date>;
  };
  /** Development sink of the sms and push channels: what a provider would have been asked to send. */
  device_messages: {
    notification_id: string;
    channel: "sms" | "push";
    user_id: string;
    title: string;
    text: string;
    delivered_at: Generated<Date>;
  };
}
