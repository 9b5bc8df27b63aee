import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { emailNotification } from "../../service/src/channels/email/channel";
import { parseEmail } from "../../service/src/channels/email/parse";
import { inTenant } from "../../service/src/db/tenant-scope";
import { composeMail } from "../emulators/gmail-mime";
import {
  type ConnectedMailbox,
  connectedMailbox,
  emailRows,
  emailTestbed,
  headerOf,
  outboxOf,
  recordInbound,
  replyWorld,
  type Testbed,
} from "./email-reply-world";

/**
 * Tenant isolation of the reply side: a tenant's task reads only its own e-mail rows and sends only
 * through its own mailbox, even when its conversation names another tenant's mailbox, and even when both
 * tenants have a thread (and message) of the same Gmail id.
 */

let bed: Testbed;
let a: ConnectedMailbox;
let b: ConnectedMailbox;

beforeAll(async () => {
  bed = await emailTestbed();
  a = await connectedMailbox(bed, "mail-tenant-a", "support@alpha.example");
  b = await connectedMailbox(bed, "mail-tenant-b", "support@bravo.example");
}, 30_000);
afterAll(async () => {
  await bed?.close();
});

const sent = (address: string) => bed.emu.messages(address, "SENT");

describe("two tenants' mailboxes", () => {
  test("a task of A naming B's mailbox and thread reads nothing of B's and sends nothing through it", async () => {
    const wb = replyWorld(bed, b);
    const bMail = await wb.receive({
      from: "bob@bravo-customer.example",
      to: b.address,
      subject: "B",
      text: "B's question",
    });
    const bRowsBefore = await emailRows(bed, b.connectionId);
    const wa = replyWorld(bed, a);
    // As if A's sync had queued B's message in B's thread (a forged or confused notification).
    const forged = emailNotification(b.connectionId, {
      ...{ gmailId: bMail.id, threadId: bMail.threadId, text: "B's question", contactId: null },
    });
    // Delivery ids are unique across the deployment: B's own is taken, so the forgery brings its own.
    if (forged.kind === "delivery") forged.delivery.id = `forged:${bMail.id}`;
    await wa.pipeline.acceptVerified("email", a.tenantId, forged);
    expect(await wa.work()).toEqual(["skipped"]);
    expect(wa.engine.turns).toEqual([]);
    expect(sent(b.address)).toEqual([]);
    expect(sent(a.address)).toEqual([]);
    expect(await emailRows(bed, b.connectionId)).toEqual(bRowsBefore);
    const aRows = await bed.inspect<
      { outcome: string }[]
    >`select outcome from outbox where tenant_id = ${a.tenantId}`;
    expect(aRows).toMatchObject([{ outcome: "mailbox_disconnected" }]);
    // B's own task still answers B's customer, through B's mailbox.
    expect(await wb.work()).toEqual(["answered"]);
    expect(headerOf(bed, sent(b.address)[0], "To")).toBe("bob@bravo-customer.example");
  });

  test("the same thread and message id in both tenants stay apart", async () => {
    const wa = replyWorld(bed, a);
    const aMail = await wa.receive({
      from: "ann@alpha-customer.example",
      to: a.address,
      subject: "A",
      text: "A's question",
    });
    // B's mailbox has a message of the very same Gmail ids (ids are per mailbox), from its own customer.
    const raw = await composeMail({
      from: "ben@bravo-customer.example",
      to: b.address,
      subject: "B too",
      text: "B's own",
    });
    const mail = await parseEmail(Buffer.from(raw));
    await inTenant(b.tenantId, () =>
      recordInbound(bed.db.sql, b.connectionId, {
        gmailId: aMail.id,
        threadId: aMail.threadId,
        contactId: null,
        mail,
      }),
    );
    const aSentBefore = sent(a.address).length;
    const bSentBefore = sent(b.address).length;
    const bRowsBefore = await emailRows(bed, b.connectionId);
    const bOutboxBefore = await outboxOf(bed, b.connectionId);
    expect(await wa.work()).toEqual(["answered"]);
    const reply = sent(a.address).at(-1);
    expect(sent(a.address)).toHaveLength(aSentBefore + 1);
    expect(headerOf(bed, reply, "To")).toBe("ann@alpha-customer.example");
    expect(wa.engine.turns.map((t) => t.message)).toEqual(["A's question"]);
    expect(sent(b.address)).toHaveLength(bSentBefore);
    expect(await emailRows(bed, b.connectionId)).toEqual(bRowsBefore);
    const aRows = await emailRows(bed, a.connectionId);
    expect(aRows.every((r) => r.tenantId === a.tenantId)).toBe(true);
    expect(await outboxOf(bed, b.connectionId)).toEqual(bOutboxBefore);
  });
});
