import nodemailer from "nodemailer";
import type { Mailer, MailMessage } from "../ports/mailer";

/**
 * E-mail through the deployment's SMTP relay with nodemailer. `url` (SMTP_URL, e.g.
 * `smtps://user:pass@smtp.example.com:465`) holds the relay's credentials: a secret, never logged.
 */
export function smtpMailer(opts: { url: string; from: string; timeoutMs?: number }): Mailer & {
  close(): void;
} {
  const timeout = opts.timeoutMs ?? 15_000;
  const transport = nodemailer.createTransport({
    url: opts.url,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    name: "smtp",
    async send(message: MailMessage) {
      await transport.sendMail({ from: opts.from, ...message });
    },
    close: () => transport.close(),
  };
}
