import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GmailMailbox } from "../../service/src/ports/gmail";
import {
  connectedMailbox,
  emailRows,
  emailTestbed,
  labelIdOf,
  outboxOf,
  replyWorld,
  type Testbed,
} from "./email-reply-world";
import { eventually } from "./helpers";

/**
 * Exactly once through a crash: the process dies inside Gmail's call, after Gmail took the reply (or
 * before it was called), and never records the outcome. Another process finds the work when the lease
 * runs out, and the reply's Message-ID, recorded before the call, tells it what happened: found in the
 * mailbox, nothing is sent again; not found, it is sent once.
 */

let bed: Testbed;
let n = 0;

beforeAll(async () => {
  bed = await emailTestbed();
}, 30_000);
afterAll(async () => {
  await bed?.close();
});

const LEASE = 0.3;
const leaseRunsOut = () => new Promise((r) => setTimeout(r, LEASE * 1000 + 100));
const never = () => new Promise<never>(() => {});

/** Gmail's client in a process that dies in its next send or draft: after Gmail took it, or before. */
function dying(when: "after" | "before") {
  return (gmail: GmailMailbox): GmailMailbox => {
    const die = <T>(call: () => Promise<T>) => (when === "before" ? never() : call().then(() => never()));
    return Object.assign(Object.create(gmail) as GmailMailbox, {
      send: (raw: Uint8Array, threadId: string) => die(() => gmail.send(raw, threadId)),
      createDraft: (raw: Uint8Array, threadId: string) => die(() => gmail.createDraft(raw, threadId)),
    });
  };
}

/** The first process dies in Gmail's call; a second one takes the work over from its poll. */
async function crashAndRecover(
  when: "after" | "before",
  mode: "send" | "draft" = "send",
  gmailBehaviour: { rewrite?: boolean } = {},
) {
  n++;
  const box = await connectedMailbox(bed, `crash-${n}`, `help${n}@acme.example`);
  bed.emu.mailbox(box.address).rewriteSentMessageIds = gmailBehaviour.rewrite;
  const first = replyWorld(bed, box, { leaseSeconds: LEASE, gmail: dying(when), settings: { mode } });
  const inbound = await first.receive({
    from: "jane@customer.example",
    to: box.address,
    subject: "Return",
    text: "How do I return an item?",
  });
  const [task] = first.queue.tasks;
  void first.pipeline.process(task?.id ?? "", box.tenantId);
  // The reply's record is written before Gmail is called: once it is there, the process is inside the call.
  await eventually(
    () => emailRows(bed, box.connectionId),
    (rows) => rows.some((r) => r.direction === "outbound"),
  );
  if (when === "after")
    await eventually(
      () => bed.emu.messages(box.address, mode === "send" ? "SENT" : "DRAFT"),
      (m) => m.length === 1,
    );
  await leaseRunsOut();
  const second = replyWorld(bed, box, { leaseSeconds: LEASE, settings: { mode } });
  expect(await second.pipeline.poll()).toMatchObject({ redispatched: 1 });
  return { box, inbound, second, outcomes: await second.work() };
}

describe("a process that dies between Gmail's call and its record", () => {
  test("after Gmail sent the reply: the next attempt finds it by its Message-ID and sends nothing", async () => {
    const { box, inbound, second, outcomes } = await crashAndRecover("after");
    expect(outcomes).toEqual(["skipped"]);
    const sent = bed.emu.messages(box.address, "SENT");
    expect(sent).toHaveLength(1);
    expect(second.engine.turns).toEqual([]);
    expect(await outboxOf(bed, box.connectionId)).toMatchObject([
      { status: "done", outcome: "already_answered" },
    ]);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      status: "sent",
      gmailId: sent[0]?.id,
      rfc822MessageId: sent[0]?.messageIdHeader,
    });
    // The labels the first process never reached are applied by the one that found the reply.
    const answered = labelIdOf(bed, box.address, "Switchboard/Answered");
    expect(bed.emu.messages(box.address).find((m) => m.id === inbound.id)?.labelIds).toContain(answered);
  });

  test("after Gmail sent it under a Message-ID of its own: found by Switchboard's header in the thread", async () => {
    const { box, outcomes } = await crashAndRecover("after", "send", { rewrite: true });
    expect(outcomes).toEqual(["skipped"]);
    const sent = bed.emu.messages(box.address, "SENT");
    expect(sent).toHaveLength(1);
    const row = (await emailRows(bed, box.connectionId)).at(-1);
    // Gmail's copy carries another Message-ID than the one recorded: only the header could find it.
    expect(sent[0]?.messageIdHeader).not.toBe(row?.rfc822MessageId);
    expect(row).toMatchObject({ status: "sent", gmailId: sent[0]?.id });
  });

  test("before Gmail was called: the next attempt finds nothing and sends the reply once", async () => {
    const { box, second, outcomes } = await crashAndRecover("before");
    expect(outcomes).toEqual(["answered"]);
    const sent = bed.emu.messages(box.address, "SENT");
    expect(sent).toHaveLength(1);
    // The reply the first process generated is sent: the model is not asked again.
    expect(second.engine.turns).toEqual([]);
    expect(await outboxOf(bed, box.connectionId)).toMatchObject([{ status: "done", outcome: "answered" }]);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      status: "sent",
      gmailId: sent[0]?.id,
    });
  });

  test("in draft mode, a draft made before the crash is found and not made again", async () => {
    const { box, outcomes } = await crashAndRecover("after", "draft");
    expect(outcomes).toEqual(["skipped"]);
    expect(bed.emu.mailbox(box.address).drafts).toHaveLength(1);
    expect(bed.emu.messages(box.address, "SENT")).toEqual([]);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({ status: "drafted" });
  });
});
