import { randomUUID } from "node:crypto";
import type { BackgroundTask, ServiceContext } from "@blossom/host";
import type { Logger } from "@blossom/runtime";
import { DevPushChannel } from "./channels/dev-push.js";
import { DevSmsChannel } from "./channels/dev-sms.js";
import { MailboxEmailChannel } from "./channels/mailbox-email.js";
import { describeSmtpUrl, SmtpEmailChannel } from "./channels/smtp-email.js";
import { type Channels, PermanentDeliveryError } from "./domain/channel.js";
import { afterFailure, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./domain/retry-policy.js";
import { NotificationSent } from "./events/contracts.js";
import type { NotificationsSettingsSchema } from "./settings.js";
import {
  claimDue,
  markFailed,
  markSent,
  type NotificationRow,
  releaseClaims,
  scheduleRetry,
} from "./store/notifications-store.js";
import type { NotificationsTables } from "./store/tables.js";
import { findContact } from "./store/users-store.js";

export interface DispatcherOptions {
  /** How often to look for due notifications. Default 500 ms. */
  pollIntervalMs?: number;
  /** Rows claimed per pass. Default 20. */
  batchSize?: number;
  /**
   * How long a claim holds a row in `sending`; past it, another dispatcher may take the row over
   * (its dispatcher is presumed dead). Must exceed the longest send (SMTP timeouts are 10 s).
   * Default 60 s.
   */
  claimMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Jitter source, 0 ≤ r < 1 (tests pass a constant). */
  random?: () => number;
}

export interface DispatcherStats {
  sent: number;
  retried: number;
  failed: number;
}

/**
 * Delivers recorded notifications after their inbox transaction committed — never inside it,
 * so a rolled-back transaction can never have sent a mail that its redelivery sends again.
 *
 * A pass claims due rows in one statement (`status = 'sending'`, a claim token, a claim
 * deadline, `attempts + 1`; `FOR UPDATE SKIP LOCKED`, so replicas on one PostgreSQL database
 * take disjoint rows), sends each through its channel outside any transaction, then settles it
 * with the same token: `sent` (and a `notifications.notification-sent.v1` event, in one
 * transaction), or back to `pending` with an exponential backoff, or `failed` once the attempts
 * are used up or the refusal is permanent.
 *
 * Guarantee: a notification is sent once, unless its dispatcher dies (or stalls past the claim
 * deadline) between the send and the bookkeeping; then it is sent again after the claim expires
 * (at least once; SMTP mails carry the notification id as Message-ID so the repeat is
 * recognisable). The mailbox and device sinks are keyed by notification id: exactly once.
 */
export class NotificationDispatcher implements BackgroundTask {
  readonly stats: DispatcherStats = { sent: 0, retried: 0, failed: 0 };
  readonly #context: ServiceContext<NotificationsTables>;
  readonly #channels: Channels;
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  readonly #batchSize: number;
  readonly #claimMs: number;
  readonly #policy: RetryPolicy;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #looping = false;
  #stopping = false;
  #closed: Promise<void> | undefined;
  /** Passes under way (the loop's and drain()'s): stop() waits for all of them. */
  readonly #passes = new Set<Promise<number>>();

  constructor(
    context: ServiceContext<NotificationsTables>,
    channels: Channels,
    options: DispatcherOptions = {},
  ) {
    this.#context = context;
    this.#channels = channels;
    this.#logger = context.logger.child({ component: "dispatcher" });
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#batchSize = options.batchSize ?? 20;
    this.#claimMs = options.claimMs ?? 60_000;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#random = options.random ?? Math.random;
  }

  /** Starts the loop: a pass now, then one every poll interval (or at once when woken). */
  start(): this {
    if (this.#stopping) throw new Error("a stopped dispatcher cannot start again");
    this.#looping = true;
    this.wake();
    return this;
  }

  /** Asks for a pass now. Cheap to call often. */
  wake(): void {
    if (!this.#looping || this.#stopping) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /**
   * Attempts every notification due now, pass after pass, until none is left (rows scheduled
   * for a later retry stay scheduled). Rejects if the database does. For tests and tools.
   */
  async drain(): Promise<void> {
    let claimed = 0;
    do {
      await this.#running;
      if (this.#stopping) return;
      claimed = await this.#pass();
    } while (claimed > 0);
    await this.#running;
  }

  /**
   * Stops the loop: the message being sent finishes and is settled, rows claimed but not yet
   * tried go back to `pending` (attempt not counted), the channels close. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopping = true;
      this.#looping = false;
      clearTimeout(this.#timer);
      await this.#running;
      await Promise.allSettled([...this.#passes]);
      await Promise.allSettled(Object.values(this.#channels).map((channel) => channel.close?.()));
    })();
    return this.#closed;
  }

  async #loop(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      do {
        this.#again = false;
        while (!this.#stopping && (await this.#pass()) === this.#batchSize) {}
      } while (this.#again && !this.#stopping);
    } catch (error) {
      this.#logger.warn({ err: error }, "dispatch pass failed; next pass at the poll interval");
    }
    if (this.#looping && !this.#stopping) {
      this.#timer = setTimeout(() => this.wake(), this.#pollIntervalMs);
      this.#timer.unref();
    }
  }

  /** Claims a batch and delivers it; returns how many rows it claimed. */
  #pass(): Promise<number> {
    const pass = this.#claimAndDeliver();
    this.#passes.add(pass);
    return pass.finally(() => this.#passes.delete(pass));
  }

  async #claimAndDeliver(): Promise<number> {
    const token = randomUUID();
    const rows = await claimDue(this.#context.db, { token, limit: this.#batchSize, claimMs: this.#claimMs });
    for (const [index, row] of rows.entries()) {
      if (this.#stopping) {
        await releaseClaims(
          this.#context.db,
          token,
          rows.slice(index).map((left) => left.id),
        );
        break;
      }
      await this.#deliver(row, token);
    }
    return rows.length;
  }

  async #deliver(row: NotificationRow, token: string): Promise<void> {
    const channel = this.#channels[row.channel];
    const log = this.#logger.child({
      notification_id: row.id,
      channel: row.channel,
      adapter: channel.adapter,
      template: row.template,
      attempt: row.attempts,
    });
    let recipient: string | undefined;
    try {
      // An email recorded before the user's contact arrived gets its address now.
      recipient = row.recipient ?? (await findContact(this.#context.db, row.user_id))?.email;
      if (!recipient) throw new Error("no email address is known for this user yet");
      await channel.send({
        notificationId: row.id,
        userId: row.user_id,
        recipient,
        subject: row.subject,
        body: row.body,
      });
    } catch (error) {
      await this.#settleFailure(row, token, error, log);
      return;
    }
    const to = recipient;
    const settled = await this.#context.transaction(async (trx) => {
      if (!(await markSent(trx, { id: row.id, token, recipient: to }))) return false;
      await this.#context.outbox.add(trx, NotificationSent, row.user_id, {
        notificationId: row.id,
        userId: row.user_id,
        channel: row.channel,
        template: row.template,
      });
      return true;
    });
    if (settled) {
      this.stats.sent += 1;
      log.info("notification sent");
    } else {
      log.warn("sent, but the claim had expired and another dispatcher took the row over");
    }
  }

  async #settleFailure(row: NotificationRow, token: string, error: unknown, log: Logger): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const decision = afterFailure(this.#policy, row.attempts, {
      permanent: error instanceof PermanentDeliveryError,
      random: this.#random(),
    });
    if (decision.retry) {
      await scheduleRetry(this.#context.db, { id: row.id, token, delayMs: decision.delayMs, error: message });
      this.stats.retried += 1;
      log.warn({ err: error, retry_in_ms: decision.delayMs }, "delivery failed; will retry");
    } else {
      await markFailed(this.#context.db, { id: row.id, token, error: message });
      this.stats.failed += 1;
      log.error({ err: error }, "delivery failed for good");
    }
  }
}

/**
 * The channels the settings ask for: SMTP email when `NOTIFICATIONS_SMTP_URL` is set, else the
 * local mailbox; sms and push always go to their development sinks.
 */
export function createChannels(
  context: ServiceContext<NotificationsTables, NotificationsSettingsSchema>,
): Channels {
  const { NOTIFICATIONS_SMTP_URL: smtpUrl, NOTIFICATIONS_SMTP_FROM: from } = context.settings;
  const email = smtpUrl ? new SmtpEmailChannel({ url: smtpUrl, from }) : new MailboxEmailChannel(context.db);
  context.logger.info(
    { email: smtpUrl ? describeSmtpUrl(smtpUrl) : "mailbox table" },
    "notification channels",
  );
  return {
    email,
    sms: new DevSmsChannel(context.db, context.logger),
    push: new DevPushChannel(context.db, context.logger),
  };
}

/** A dispatcher over the configured channels, with the configured retry limit (not started). */
export function createDispatcher(
  context: ServiceContext<NotificationsTables, NotificationsSettingsSchema>,
  options: DispatcherOptions = {},
): NotificationDispatcher {
  return new NotificationDispatcher(context, createChannels(context), {
    ...options,
    retry: { maxAttempts: context.settings.NOTIFICATIONS_MAX_ATTEMPTS, ...options.retry },
  });
}
