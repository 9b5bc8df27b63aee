import MailComposer from "nodemailer/lib/mail-composer";
import type { Sql } from "../../db/client";
import { firstConnectedMailbox } from "../../db/email-mailboxes";
import { inTenant } from "../../db/tenant-scope";
import type { TenantMailers } from "../../engine/notifications";
import { GmailAuthRevoked } from "../../ports/gmail";
import type { Mailer, MailMessage } from "../../ports/mailer";
import type { MailboxAccess, OpenMailbox } from "./mailbox-access";

/**
 * The team's notification e-mail (escalations, a disconnected mailbox) sent through the tenant's own
 * connected mailbox when it has one (its oldest): from an address the team knows, signed by Google. The
 * deployment's SMTP relay carries it otherwise (engine/notifications.ts picks).
 */
export class MailboxTeamMailers implements TenantMailers {
  constructor(private readonly deps: { sql: Sql; access: MailboxAccess }) {}

  async has(sql: Sql): Promise<boolean> {
    return (await firstConnectedMailbox(sql)) !== undefined;
  }

  async mailerOf(tenantId: string): Promise<Mailer | undefined> {
    const row = await inTenant(tenantId, () => firstConnectedMailbox(this.deps.sql));
    const open = row ? await this.deps.access.open(tenantId, row.connectionId) : undefined;
    if (!open) return undefined;
    return { name: "gmail", send: (message) => this.send(tenantId, open, message) };
  }

  /** A message of its own (no thread); a refused token disconnects the mailbox, and the attempt fails. */
  private async send(tenantId: string, open: OpenMailbox, message: MailMessage): Promise<void> {
    const raw = await composeNotice(open.row.address, message);
    try {
      await open.gmail.send(raw);
    } catch (error) {
      if (error instanceof GmailAuthRevoked) await this.deps.access.revoked(tenantId, open.row);
      throw error;
    }
  }
}

/** RFC 2822 from the mailbox, marked as machine-made (RFC 3834) so no robot, the bot included, answers it. */
export async function composeNotice(mailbox: string, message: MailMessage): Promise<Buffer> {
  const node = new MailComposer({
    from: { name: "Switchboard", address: mailbox },
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
  }).compile();
  return await new Promise<Buffer>((resolve, reject) =>
    node.build((error, built) => (error ? reject(error) : resolve(built))),
  );
}
