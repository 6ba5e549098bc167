import type { createTransport } from "nodemailer";
import { type Channel, type OutgoingMessage, PermanentDeliveryError } from "../domain/channel.js";

export interface SmtpEmailOptions {
  /** `smtp://[user:pass@]host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  url: string;
  /** The From header, e.g. `Blossom <no-reply@example.com>`. */
  from: string;
  /** Limits on connecting, the greeting and any one socket wait; default 10 s each. Keep below the dispatcher's claim time. */
  timeoutMs?: number;
}

/** SMTP reply codes that no retry will change: the mailbox does not exist or is refused. */
const PERMANENT_CODES = new Set([550, 551, 553]);

/**
 * Email through an SMTP server, with nodemailer. One connection per message (no pool): the
 * dispatcher sends little, and a broken connection never poisons the next message. Each mail
 * carries `Message-ID: <notification id@blossom>`, so the rare resend after a crash between the
 * send and its bookkeeping is recognisable downstream.
 */
export class SmtpEmailChannel implements Channel {
  readonly name = "email" as const;
  readonly adapter = "smtp";
  readonly #options: SmtpEmailOptions;
  #transport: Promise<ReturnType<typeof createTransport>> | undefined;

  constructor(options: SmtpEmailOptions) {
    this.#options = options;
  }

  /**
   * nodemailer is loaded with the first message, not with the module: the embedded default's
   * mailbox never needs it, and it costs about 70 ms and 8 MiB to load.
   */
  #connect(): Promise<ReturnType<typeof createTransport>> {
    this.#transport ??= import("nodemailer").then(({ createTransport }) => {
      const timeout = this.#options.timeoutMs ?? 10_000;
      return createTransport({
        url: this.#options.url,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      });
    });
    return this.#transport;
  }

  async send(message: OutgoingMessage): Promise<void> {
    const transport = await this.#connect();
    try {
      await transport.sendMail({
        from: this.#options.from,
        to: message.recipient,
        subject: message.subject,
        text: message.body,
        messageId: `<${message.notificationId}@blossom>`,
      });
    } catch (error) {
      const code = (error as { responseCode?: unknown }).responseCode;
      if (typeof code === "number" && PERMANENT_CODES.has(code)) {
        throw new PermanentDeliveryError(`SMTP refused the recipient (${code})`, { cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    // A transport that failed to load was never opened: nothing to close.
    (await this.#transport?.catch(() => undefined))?.close();
  }
}

/** Where an SMTP URL points, without its credentials (for logs). */
export function describeSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "an unparsable SMTP URL";
  }
}
