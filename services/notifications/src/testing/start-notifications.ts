/**
 * Test support for the notifications suites (not built: see tsconfig.json): notifications
 * started by the test kit (`startServiceForTest`), with dispatchers over the real channels.
 */
import type { ServiceHost } from "@blossom/host";
import { type ServiceUnderTest, startServiceForTest, type TestStoreFactory } from "@blossom/testkit";
import { sql } from "kysely";
import { DevPushChannel } from "../channels/dev-push.js";
import { DevSmsChannel } from "../channels/dev-sms.js";
import { MailboxEmailChannel } from "../channels/mailbox-email.js";
import { SmtpEmailChannel } from "../channels/smtp-email.js";
import { type DispatcherOptions, NotificationDispatcher } from "../dispatcher.js";
import { notificationsService } from "../service.js";
import type { NotificationsSettingsSchema } from "../settings.js";
import type { NotificationsTables } from "../store/tables.js";

type NotificationsHost = ServiceHost<NotificationsTables, NotificationsSettingsSchema>;

export interface NotificationsUnderTest
  extends ServiceUnderTest<NotificationsTables, NotificationsSettingsSchema> {
  /**
   * A dispatcher of `host` (default the first; not started; stopped by `reset()` and `close()`)
   * over the real adapters: SMTP to `smtpUrl` when given, else the mailbox; sms and push to
   * their development sinks. No jitter.
   */
  dispatcher(
    options?: DispatcherOptions & { smtpUrl?: string; maxAttempts?: number },
    host?: NotificationsHost,
  ): NotificationDispatcher;
  /** Stops the test's dispatchers and empties every table, for the next test on the same host. */
  reset(): Promise<void>;
}

/** Starts notifications as the host runs it: migrations, routes, consumers, listening. */
export async function startNotifications(
  options: {
    settings?: Record<string, unknown>;
    /** Run the service's own background delivery (the `start` hook). Default false: tests drive a dispatcher. */
    background?: boolean;
    /** Where its database lives, and how many hosts share it (see startServiceForTest). */
    store?: TestStoreFactory;
    replicas?: number;
  } = {},
): Promise<NotificationsUnderTest> {
  const { background, ...start } = options;
  const notifications = await startServiceForTest(
    background ? notificationsService : { ...notificationsService, start: undefined },
    start,
  );
  const dispatchers: NotificationDispatcher[] = [];
  const stopDispatchers = () => Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.stop()));
  const closeService = notifications.close;

  return Object.assign(notifications, {
    dispatcher(
      {
        smtpUrl,
        maxAttempts,
        ...dispatcherOptions
      }: DispatcherOptions & { smtpUrl?: string; maxAttempts?: number } = {},
      host: NotificationsHost = notifications.host,
    ) {
      const { db, logger } = host.context;
      const dispatcher = new NotificationDispatcher(
        host.context,
        {
          email: smtpUrl
            ? new SmtpEmailChannel({ url: smtpUrl, from: "Blossom <shop@blossom.test>", timeoutMs: 5000 })
            : new MailboxEmailChannel(db),
          sms: new DevSmsChannel(db, logger),
          push: new DevPushChannel(db, logger),
        },
        {
          random: () => 0.5,
          ...dispatcherOptions,
          retry: { ...(maxAttempts ? { maxAttempts } : {}), ...dispatcherOptions.retry },
        },
      );
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    async reset() {
      await stopDispatchers();
      await sql`truncate notifications, contacts, preferences, known_orders, mailbox, device_messages,
        inbox, outbox`.execute(notifications.host.context.db);
    },
    async close(closeOptions?: { keepData?: boolean }) {
      await stopDispatchers();
      await closeService(closeOptions);
    },
  });
}
