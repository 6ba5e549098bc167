import type { Generated } from "kysely";

export interface NotificationsTables {
  notifications: {
    id: string;
    user_id: string;
    channel: "email" | "sms" | "push";
    template: string;
    recipient: string;
    subject: string;
    body: string;
    status: "sent" | "failed";
    source_event_id: string;
    created_at: Generated<Date>;
  };
}
