import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import type { Database } from "../../service/src/db/client";
import { duePending, listDeliveries, replayDelivery } from "../../service/src/db/event-deliveries";
import { migrate } from "../../service/src/db/migrate";
import { forgetEventsOf } from "../../service/src/db/outbound-events";
import { createTenant, updateTenant } from "../../service/src/db/platform";
import { purgeOutboundEvents } from "../../service/src/db/retention";
import { asPlatform, inTenant } from "../../service/src/db/tenant-scope";
import { disableEndpoint, findEndpoint, updateEndpoint } from "../../service/src/db/webhook-endpoints";
import type { OutboundEvent } from "../../service/src/engine/follow-up";
import { dispatchDeliveries } from "../../service/src/engine/outbound-events";
import type { DisabledEndpoint } from "../../service/src/engine/webhook-delivery";
import { startWebhookReceiver, type WebhookReceiver } from "../emulators/webhook-receiver";
import { raw, testDatabase } from "./helpers";
import { addEndpoint, silentLog, webhookParts } from "./webhooks-fakes";

/**
 * Signed webhooks out, end to end against a receiver that verifies with the `standardwebhooks` package:
 * recorded with the change that caused them, delivered in order per contact, retried over hours while the
 * receiver is down, replayed from the log, and an endpoint that keeps failing disabled.
 */

let db: Database;
let drop: () => Promise<void>;
let receiver: WebhookReceiver;
let slug = 0;

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  await migrate(db.sql);
  receiver = await startWebhookReceiver();
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await drop?.();
});
afterEach(() => {
  vi.useRealTimers();
  receiver.setMode({ kind: "up" });
});

async function tenant() {
  slug++;
  return (await createTenant(db.sql, { slug: `hooks-${slug}`, name: `Hooks ${slug}` })).id;
}

const lead = (contactId: string, type: OutboundEvent["type"], status: string): OutboundEvent => ({
  type,
  orderingKey: contactId,
  data: { contactId, status },
});

/** Records the events in one transaction of the tenant (as a change would), then dispatches them. */
async function record(parts: ReturnType<typeof webhookParts>, tenantId: string, events: OutboundEvent[]) {
  const dispatches = await inTenant(tenantId, () =>
    db.sql.begin(async (tx) => {
      const out = [];
      for (const e of events) out.push(await parts.outbox.record(tx as never, e));
      return out;
    }),
  );
  for (const dispatch of dispatches) await dispatch();
}

/** Moves the faked clock on (Date only: sockets and the database keep their real timers). */
function advance(ms: number) {
  vi.setSystemTime(new Date(Date.now() + ms));
}

describe("a recorded event", () => {
  test("reaches every subscribed endpoint signed, verified by the standardwebhooks package", async () => {
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/crm-${slug}`,
      events: ["lead.created", "lead.updated"],
    });
    const other = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/other-${slug}`,
      events: ["escalation.created"],
    });
    receiver.expect(`/crm-${slug}`, crm.secret);
    receiver.expect(`/other-${slug}`, other.secret);

    await record(parts, tenantId, [lead("contact-1", "lead.created", "new")]);
    const outcomes = await parts.queue.runDue(parts.deliveries);

    expect(outcomes).toEqual(["delivered (204)"]);
    const got = receiver.received.filter((r) => r.path === `/crm-${slug}`);
    expect(got).toHaveLength(1);
    expect(got[0]?.type).toBe("lead.created");
    expect(got[0]?.data).toEqual({ contactId: "contact-1", status: "new" });
    expect(got[0]?.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(receiver.received.filter((r) => r.path === `/other-${slug}`)).toEqual([]);
    expect(receiver.rejected).toEqual([]);
  });

  test("signed with another endpoint's secret, is refused by the receiver's verification", async () => {
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/wrong-${slug}`,
      events: ["lead.created"],
    });
    const decoy = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/decoy-${slug}`,
      events: ["call.completed"],
    });
    expect(crm.secret).not.toBe(decoy.secret);
    receiver.expect(`/wrong-${slug}`, decoy.secret);
    await record(parts, tenantId, [lead("c", "lead.created", "new")]);
    const [outcome] = await parts.queue.runDue(parts.deliveries);
    expect(outcome).toContain("HTTP 400");
    expect(receiver.rejected.filter((r) => r.path === `/wrong-${slug}`)).toHaveLength(1);
  });

  test("is not delivered when the change that caused it rolls back", async () => {
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/rollback-${slug}`,
      events: ["lead.created"],
    });
    receiver.expect(`/rollback-${slug}`, crm.secret);
    await expect(
      inTenant(tenantId, () =>
        db.sql.begin(async (tx) => {
          await parts.outbox.record(tx as never, lead("c", "lead.created", "new"));
          throw new Error("the lead's insert failed");
        }),
      ),
    ).rejects.toThrow("the lead's insert failed");
    const [{ n }] = (await raw(db).unsafe(
      "select count(*)::int as n from outbound_events where tenant_id = $1",
      [tenantId],
    )) as [{ n: number }];
    expect(n).toBe(0);
  });
});

describe("a receiver that is down for an hour", () => {
  test("gets every event after it returns, once each, in order per contact", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const path = `/down-${slug}`;
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}${path}`,
      events: ["lead.created", "lead.updated"],
    });
    receiver.expect(path, crm.secret);
    receiver.setMode({ kind: "down" });

    await record(parts, tenantId, [lead("ada", "lead.created", "new"), lead("bob", "lead.created", "new")]);
    const sweep = parts.deliveries.sweep();
    // An hour down: every 5 minutes the due retries run, and the poll's sweep. Ada's lead changes at 50
    // minutes: those events' own first retries would come before her first event's next one (at 2 h 35).
    for (let minute = 0; minute < 60; minute += 5) {
      if (minute === 50) {
        await record(parts, tenantId, [
          lead("ada", "lead.updated", "qualified"),
          lead("ada", "lead.updated", "won"),
        ]);
      }
      await parts.queue.runDue(parts.deliveries);
      await sweep.run();
      advance(5 * 60_000);
    }
    expect(receiver.received.filter((r) => r.path === path)).toEqual([]);
    expect(receiver.refused).toBeGreaterThan(0);

    receiver.setMode({ kind: "up" });
    // Back: the retries (30 min, then 2 h apart) bring everything within a few hours.
    for (let minute = 0; minute < 6 * 60; minute += 10) {
      await parts.queue.runDue(parts.deliveries);
      await sweep.run();
      advance(10 * 60_000);
    }
    const got = receiver.received.filter((r) => r.path === path);
    expect(got.map((r) => `${r.data.contactId}:${r.data.status}`).filter((s) => s.startsWith("ada"))).toEqual(
      ["ada:new", "ada:qualified", "ada:won"],
    );
    expect(got.map((r) => r.data.contactId).sort()).toEqual(["ada", "ada", "ada", "bob"]);
    expect(new Set(got.map((r) => r.id)).size).toBe(4);

    const log = await inTenant(tenantId, () => listDeliveries(db.sql, crm.id, { limit: 10 }));
    expect(log.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    const first = log.find((d) => d.eventType === "lead.created" && d.attempts > 1);
    expect(first?.attemptLog[0]?.statusCode).toBe(204);
    expect(first?.attemptLog.slice(1).every((a) => a.statusCode === null && a.error !== null)).toBe(true);
  });
});

describe("the delivery log", () => {
  test("replays a delivery: the receiver gets it again with the same webhook-id", async () => {
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const path = `/replay-${slug}`;
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}${path}`,
      events: ["escalation.created"],
    });
    receiver.expect(path, crm.secret);
    await record(parts, tenantId, [{ type: "escalation.created", orderingKey: null, data: { id: "e1" } }]);
    await parts.queue.runDue(parts.deliveries);

    const [delivery] = await inTenant(tenantId, () => listDeliveries(db.sql, crm.id, { limit: 10 }));
    const replayed = await inTenant(tenantId, () =>
      replayDelivery(db.sql, crm.id, delivery?.id as string, new Date()),
    );
    await dispatchDeliveries(parts.queue, silentLog, tenantId, replayed ? [replayed] : []);
    await parts.queue.runDue(parts.deliveries);

    const got = receiver.received.filter((r) => r.path === path);
    expect(got).toHaveLength(2);
    expect(got[1]?.id).toBe(got[0]?.id);
    const [after] = await inTenant(tenantId, () => listDeliveries(db.sql, crm.id, { limit: 10 }));
    expect(after?.attemptLog.map((a) => a.statusCode)).toEqual([204, 204]);
  });
});

describe("the circuit", () => {
  test("disables an endpoint that keeps failing, with an audit entry and a notice; nothing pending is lost", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const tenantId = await tenant();
    const notices: DisabledEndpoint[] = [];
    const parts = webhookParts(db.sql, {
      circuit: { failingForMs: 3_600_000, minFailures: 3, maxFailures: 100 },
      onEndpointDisabled: async (e) => void notices.push(e),
    });
    const path = `/circuit-${slug}`;
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}${path}`,
      events: ["call.completed"],
      description: "Our CRM",
    });
    receiver.expect(path, crm.secret);
    receiver.setMode({ kind: "failing", status: 500 });
    await record(parts, tenantId, [{ type: "call.completed", orderingKey: null, data: { callId: "c1" } }]);
    for (let minute = 0; minute < 4 * 60; minute += 10) {
      await parts.queue.runDue(parts.deliveries);
      await parts.deliveries.sweep().run();
      advance(10 * 60_000);
    }
    const endpoint = await inTenant(tenantId, () => findEndpoint(db.sql, crm.id));
    expect(endpoint?.status).toBe("disabled");
    expect(endpoint?.disabledReason).toMatch(/failed attempts in a row/);
    expect(notices).toEqual([
      expect.objectContaining({
        tenantId,
        endpointId: crm.id,
        description: "Our CRM",
        host: new URL(receiver.url).host,
      }),
    ]);
    const audit = await raw(db).unsafe(
      "select actor, target from audit_log where tenant_id = $1 and action = 'webhook_endpoint.disabled'",
      [tenantId],
    );
    expect(audit).toEqual([{ actor: "system", target: crm.id }]);

    // Fixed and enabled again: the delivery kept while it was off goes out.
    receiver.setMode({ kind: "up" });
    const kept = await inTenant(tenantId, async () => {
      await updateEndpoint(db.sql, crm.id, { enable: true });
      return duePending(db.sql, crm.id, new Date(), 100);
    });
    await dispatchDeliveries(parts.queue, silentLog, tenantId, kept);
    await parts.queue.runDue(parts.deliveries);
    expect(receiver.received.filter((r) => r.path === path).map((r) => r.data)).toEqual([{ callId: "c1" }]);
  });
});

describe("the sweep", () => {
  test("dispatches lost deliveries of every tenant, in the delivery's tenant, but none of a disabled endpoint or a suspended tenant", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const parts = webhookParts(db.sql);
    const lost: Record<string, string> = {};
    const tenants = [await tenant(), await tenant(), await tenant(), await tenant()];
    const [live, other, disabled, suspended] = tenants as [string, string, string, string];
    for (const tenantId of tenants) {
      const crm = await addEndpoint(db.sql, parts.store, tenantId, {
        url: `${receiver.url}/lost-${tenantId}`,
        events: ["lead.created"],
      });
      receiver.expect(`/lost-${tenantId}`, crm.secret);
      // Recorded, and the process died before dispatching: no task exists.
      await inTenant(tenantId, () => parts.outbox.record(db.sql, lead("c", "lead.created", "new")));
      lost[tenantId] = crm.id;
    }
    await inTenant(disabled, () => disableEndpoint(db.sql, lost[disabled] as string, "test"));
    await updateTenant(db.sql, suspended, { status: "suspended" });
    expect(parts.queue.tasks).toEqual([]);

    advance(2 * 60_000);
    // Run from inside one tenant's scope: the sweep is a platform function all the same.
    await inTenant(live, () => parts.deliveries.sweep().run());
    expect(parts.queue.tasks.map((t) => t.tenantId).sort()).toEqual([live, other].sort());
    await parts.queue.runDue(parts.deliveries);
    for (const tenantId of [live, other]) {
      expect(receiver.received.filter((r) => r.path === `/lost-${tenantId}`)).toHaveLength(1);
    }
    expect(
      receiver.received.filter((r) => r.path === `/lost-${disabled}` || r.path === `/lost-${suspended}`),
    ).toEqual([]);
  });
});

describe("retention", () => {
  test("purges settled events with their delivery logs, and keeps an event still pending somewhere", async () => {
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const up = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/kept-up-${slug}`,
      events: ["lead.created"],
    });
    receiver.expect(`/kept-up-${slug}`, up.secret);
    await record(parts, tenantId, [{ type: "call.completed", orderingKey: null, data: {} }]);
    await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}/nobody-${slug}`,
      events: ["lead.updated"],
    });
    await record(parts, tenantId, [lead("c", "lead.created", "new"), lead("c", "lead.updated", "x")]);
    await parts.queue.runDue(parts.deliveries);
    const count = async (table: string) => {
      const [{ n }] = (await raw(db).unsafe(`select count(*)::int as n from ${table} where tenant_id = $1`, [
        tenantId,
      ])) as [{ n: number }];
      return n;
    };
    // The call.completed no endpoint subscribed to was never written: nobody would have received it.
    expect(await count("outbound_events")).toBe(2);
    // Age 0: everything settled is old enough. The lead.updated (its receiver knows no secret: refused,
    // retried later) stays pending.
    await asPlatform(() => purgeOutboundEvents(db.sql, 0, 100));
    expect(await count("outbound_events")).toBe(1);
    const [left] = await raw(db).unsafe("select type from outbound_events where tenant_id = $1", [tenantId]);
    expect(left).toEqual({ type: "lead.updated" });
    expect(await count("event_delivery_attempts")).toBe(1);
  });
});

describe("erasure of a contact", () => {
  test("deletes its events, so a pending one naming the person is never sent; others' stay", async () => {
    const tenantId = await tenant();
    const parts = webhookParts(db.sql);
    const path = `/erased-${slug}`;
    const crm = await addEndpoint(db.sql, parts.store, tenantId, {
      url: `${receiver.url}${path}`,
      events: ["lead.created"],
    });
    receiver.expect(path, crm.secret);
    await record(parts, tenantId, [
      lead("ada", "lead.created", "ada@example.com"),
      lead("bob", "lead.created", "new"),
    ]);
    const forgotten = await inTenant(tenantId, () => forgetEventsOf(db.sql, "ada"));
    expect(forgotten).toBe(1);
    await parts.queue.runDue(parts.deliveries);
    expect(receiver.received.filter((r) => r.path === path).map((r) => r.data.contactId)).toEqual(["bob"]);
  });
});
