/**
 * Sends an e-mail to a tenant's team. Today an SMTP relay configured for the deployment
 * (adapters/smtp-mailer.ts, SMTP_URL and NOTIFY_FROM); a tenant's connected mailbox (the e-mail channel)
 * can implement the same port later.
 */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string | undefined;
}

export interface Mailer {
  /** `smtp`: for start-up logs, never for branching. */
  readonly name: string;
  /** Resolves once the relay accepted the message; throws when it refused or could not be reached. */
  send(message: MailMessage): Promise<void>;
}
