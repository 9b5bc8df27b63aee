import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eraseSubject } from "../../service/src/db/erasure";
import { inTenant } from "../../service/src/db/tenant-scope";
import {
  connectedMailbox,
  emailRows,
  emailTestbed,
  outboxOf,
  replyWorld,
  type Testbed,
} from "./email-reply-world";

/**
 * GDPR erasure reaches the e-mail channel: erasing a person by their address removes the Gmail messages
 * recorded from them and the replies to them, and their threads' outbox rows; another customer's thread in
 * the same mailbox stays.
 */

let bed: Testbed;

beforeAll(async () => {
  bed = await emailTestbed();
}, 30_000);
afterAll(async () => {
  await bed?.close();
});

describe("erasing a person who wrote to a tenant's mailbox", () => {
  test("removes their messages, the replies to them and their threads' work; another customer's stay", async () => {
    const box = await connectedMailbox(bed, "erasure-1", "help@erasure.example");
    const w = replyWorld(bed, box);
    await w.receive({
      from: "Jane <jane@customer.example>",
      to: box.address,
      subject: "Refund",
      text: "Refund?",
    });
    await w.receive({
      from: "kim@other.example",
      to: box.address,
      subject: "Hours",
      text: "When are you open?",
    });
    expect(await w.work()).toEqual(["answered", "answered"]);
    expect(await emailRows(bed, box.connectionId)).toHaveLength(4);

    const { counts } = await inTenant(box.tenantId, () =>
      eraseSubject(
        bed.db.sql,
        { identityIds: [], contactId: null, email: "jane@customer.example" },
        { actor: "test", requestId: "erasure-1", subjectRef: "ref-1", deletedUpstream: false },
      ),
    );
    expect(counts.emailMessages).toBe(2);
    const left = await emailRows(bed, box.connectionId);
    expect(left.map((r) => r.direction).sort()).toEqual(["inbound", "outbound"]);
    expect(JSON.stringify(left)).not.toContain("jane@customer.example");
    expect(JSON.stringify(left)).toContain("kim@other.example");
    const outbox = await outboxOf(bed, box.connectionId);
    expect(outbox).toHaveLength(1);
  });
});
