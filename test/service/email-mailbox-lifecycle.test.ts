import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GmailAuthRevoked } from "../../service/src/ports/gmail";
import { auditRows, type Body, json } from "./admin-helpers";
import {
  connectMailbox,
  type EmailWorld,
  emailWorld,
  INTERNAL,
  issuedToken,
  mailboxesPath,
  mailboxRow,
  PUBLIC_URL,
  renewWatches,
  tenantWithAdmin,
} from "./email-connect-helpers";
import { eventually, raw } from "./helpers";

/**
 * Issue 15: a connected mailbox's watch renewed daily, a refresh token Google no longer accepts (the user
 * revoked it, or a "testing" app's 7 days passed) disconnecting the mailbox and telling the tenant's
 * admins, and an admin disconnecting it: against the Gmail + OAuth emulator and an SMTP sink.
 */

let w: EmailWorld;
let acme: { tenant: Body; admin: Record<string, string> };

beforeAll(async () => {
  w = await emailWorld();
  acme = await tenantWithAdmin(w.svc, "acme");
  const owner = { subject: "acme-owner", email: "owner@acme.example", role: "tenant_admin" };
  const added = await w.svc.call("POST", `/api/v1/admin/tenants/${acme.tenant.id}/users`, owner, acme.admin);
  expect(added.status).toBe(201);
});
afterAll(async () => {
  await w?.stop();
});

/** Pretends the watch of `address` was renewed `hours` ago (and expires 7 days after that). */
const renewedAgo = (address: string, hours: number) =>
  raw(w.svc.db)`
    update email_mailboxes set watch_renewed_at = now() - ${`${hours} hours`}::interval,
      watch_expires_at = now() - ${`${hours} hours`}::interval + interval '7 days'
    where address = ${address}`;

/** How many users.watch calls the emulator has served. */
const watchCalls = () =>
  w.emu.requests.filter((r) => r.method === "POST" && r.path.endsWith("/watch")).length;

describe("the daily watch renewal", () => {
  test("renews only the mailboxes that are due: renewed over 20 hours ago, or expiring within 6 days", async () => {
    for (const address of ["a@acme.example", "b@acme.example", "c@acme.example"])
      await connectMailbox(w, acme.tenant, acme.admin, address);
    await renewedAgo("a@acme.example", 21);
    await renewedAgo("b@acme.example", 2);
    await raw(w.svc.db)`
      update email_mailboxes set watch_expires_at = now() + interval '5 days' where address = 'c@acme.example'`;
    const before = await mailboxRow(w, "b@acme.example");
    const calls = watchCalls();

    expect(await renewWatches(w)).toMatchObject({ due: 2, renewed: 2, revoked: 0, failed: 0 });
    expect(watchCalls() - calls).toBe(2);
    for (const address of ["a@acme.example", "c@acme.example"]) {
      const row = await mailboxRow(w, address);
      expect(Date.now() - (row?.watchRenewedAt?.getTime() ?? 0)).toBeLessThan(60_000);
      expect(row?.watchExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    }
    expect((await mailboxRow(w, "b@acme.example"))?.watchRenewedAt).toEqual(before?.watchRenewedAt);
    expect(await renewWatches(w)).toMatchObject({ due: 0, renewed: 0 });
  });

  test("a revoked grant disconnects the mailbox once, audits it, and tells the tenant's admins by e-mail how to reconnect", async () => {
    // Acme's only other mailboxes go first: the notice must not go through a mailbox of its own.
    for (const address of ["a@acme.example", "b@acme.example", "c@acme.example"]) {
      const row = await mailboxRow(w, address);
      await w.svc.call("DELETE", `${mailboxesPath(acme.tenant)}/${row?.connectionId}`, undefined, acme.admin);
    }
    await connectMailbox(w, acme.tenant, acme.admin, "support@acme.example");
    const connected = await mailboxRow(w, "support@acme.example");
    w.emu.revokeGrants("support@acme.example");
    await renewedAgo("support@acme.example", 21);

    expect(await renewWatches(w)).toMatchObject({ due: 1, revoked: 1, renewed: 0 });
    const row = await mailboxRow(w, "support@acme.example");
    // policies/gmail-mailbox-revoked.json counts these lines by their reason.
    expect(
      w.svc.logs.events("email.mailbox_disconnected").filter((l) => l.connectionId === row?.connectionId),
    ).toMatchObject([{ reason: "refresh_token_revoked", mailbox: "support@acme.example" }]);
    expect(row).toMatchObject({ status: "disconnected", disconnectedReason: "refresh_token_revoked" });
    // The dead token is destroyed too.
    expect(row?.secretRefs.refreshToken).toBeUndefined();
    await expect(w.svc.secretStore.get(connected?.secretRefs.refreshToken ?? "")).rejects.toThrow();
    const audit = await auditRows(w.svc.db, "email.mailbox_disconnected");
    expect(audit.at(-1)).toMatchObject({
      tenantId: acme.tenant.id,
      actor: "switchboard",
      role: "service",
      target: row?.connectionId,
      summary: { address: "support@acme.example", reason: "refresh_token_revoked" },
    });

    const mail = await eventually(
      () => w.smtp.messages.filter((m) => m.to.includes("owner@acme.example")),
      (found) => found.length > 0,
    );
    expect(mail).toHaveLength(1);
    expect(mail[0]?.subject).toContain("support@acme.example was disconnected");
    expect(mail[0]?.text).toContain("Testing");
    expect(mail[0]?.text).toContain(`${PUBLIC_URL}/api/v1/admin/tenants/${acme.tenant.id}/email/connect`);

    // Nothing more the next time: the mailbox is no longer due, and no second notice is written.
    expect(await renewWatches(w)).toMatchObject({ due: 0 });
    const notices = await raw(w.svc.db)`select 1 from notifications where topic = 'mailbox.disconnected'`;
    expect(notices).toHaveLength(1);
    const listed = await json(await w.svc.call("GET", mailboxesPath(acme.tenant), undefined, acme.admin));
    expect(listed.mailboxes.find((m: Body) => m.address === "support@acme.example")).toMatchObject({
      status: "disconnected",
      reason: "refresh_token_revoked",
    });
  });

  test("connecting a disconnected mailbox again connects it", async () => {
    const done = await connectMailbox(w, acme.tenant, acme.admin, "support@acme.example");
    expect(done).toMatchObject({ reconnected: true, watch: "active" });
    expect(await mailboxRow(w, "support@acme.example")).toMatchObject({
      status: "connected",
      disconnectedReason: null,
    });
  });
});

describe("an admin disconnecting a mailbox", () => {
  test("revokes the token at Google, stops the watch and destroys the token; again is harmless", async () => {
    await connectMailbox(w, acme.tenant, acme.admin, "desk@acme.example");
    const token = issuedToken(w, "desk@acme.example");
    const before = await mailboxRow(w, "desk@acme.example");
    expect(w.emu.mailbox("desk@acme.example").watch).toBeDefined();
    const path = `${mailboxesPath(acme.tenant)}/${before?.connectionId}`;

    const res = await w.svc.call("DELETE", path, undefined, acme.admin);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "disconnected", reason: "disconnected_by_admin" });
    await expect(w.google.mailbox(token).profile()).rejects.toBeInstanceOf(GmailAuthRevoked);
    expect(w.emu.mailbox("desk@acme.example").watch).toBeUndefined();
    await expect(w.svc.secretStore.get(before?.secretRefs.refreshToken ?? "")).rejects.toThrow();
    expect((await auditRows(w.svc.db, "email.mailbox_disconnected")).at(-1)).toMatchObject({
      actor: "acme-admin",
      summary: { reason: "disconnected_by_admin" },
    });

    const again = await w.svc.call("DELETE", path, undefined, acme.admin);
    expect(again.status).toBe(200);
    expect(
      (await auditRows(w.svc.db, "email.mailbox_disconnected")).filter(
        (a) => a.target === before?.connectionId,
      ),
    ).toHaveLength(1);
    // One disconnection, as the dashboard counts it (the log line's reason is the metric's label).
    expect(
      w.svc.logs.events("email.mailbox_disconnected").filter((l) => l.connectionId === before?.connectionId),
    ).toMatchObject([{ reason: "disconnected_by_admin" }]);
  });

  test("deleting its channel connection revokes the grant first, then the mailbox is gone", async () => {
    await connectMailbox(w, acme.tenant, acme.admin, "old@acme.example");
    const token = issuedToken(w, "old@acme.example");
    const row = await mailboxRow(w, "old@acme.example");
    const res = await w.svc.call(
      "DELETE",
      `/api/v1/admin/tenants/${acme.tenant.id}/channels/${row?.connectionId}`,
      undefined,
      acme.admin,
    );
    expect(res.status).toBe(204);
    await expect(w.google.mailbox(token).profile()).rejects.toBeInstanceOf(GmailAuthRevoked);
    expect(await mailboxRow(w, "old@acme.example")).toBeUndefined();
  });
});

describe("the team's notification e-mail", () => {
  test("goes through the tenant's connected mailbox when it has one, not the SMTP relay", async () => {
    const globex = await tenantWithAdmin(w.svc, "globex");
    const owner = { subject: "globex-owner", email: "owner@globex.example", role: "tenant_admin" };
    await w.svc.call("POST", `/api/v1/admin/tenants/${globex.tenant.id}/users`, owner, globex.admin);
    await connectMailbox(w, globex.tenant, globex.admin, "help@globex.example");
    await connectMailbox(w, globex.tenant, globex.admin, "sales@globex.example");
    w.emu.revokeGrants("sales@globex.example");
    await renewedAgo("sales@globex.example", 21);

    expect(await renewWatches(w)).toMatchObject({ revoked: 1 });
    const sent = await eventually(
      () => w.emu.messages("help@globex.example", "SENT"),
      (found) => found.length > 0,
    );
    expect(sent).toHaveLength(1);
    const notice = sent[0];
    if (!notice) throw new Error("no notice");
    expect(w.emu.header(notice, "To")).toBe("owner@globex.example");
    expect(w.emu.header(notice, "From")).toContain("help@globex.example");
    expect(w.emu.header(notice, "Subject")).toContain("sales@globex.example was disconnected");
    expect(w.emu.header(notice, "Auto-Submitted")).toBe("auto-generated");
    expect(w.smtp.messages.filter((m) => m.to.includes("owner@globex.example"))).toEqual([]);
  });
});

describe("the whole path, as the service composes it", () => {
  test("a mailbox connected through the admin API answers its mail; a revoked grant found by the sync disconnects it", async () => {
    const shop = await tenantWithAdmin(w.svc, "shop");
    await connectMailbox(w, shop.tenant, shop.admin, "hello@shop.example");
    await w.emu.deliver("hello@shop.example", {
      from: "jane@customer.example",
      to: "hello@shop.example",
      subject: "Opening hours",
      text: "When are you open on Saturdays?",
    });
    const poll = () => w.svc.post("/internal/poll", undefined, { "x-internal-token": INTERNAL });
    expect((await poll()).status).toBe(200);
    const sent = await eventually(
      () => w.emu.messages("hello@shop.example", "SENT"),
      (found) => found.length > 0,
      15_000,
    );
    expect(sent).toHaveLength(1);
    const [reply] = sent;
    const [inbound] = w.emu.messages("hello@shop.example", "INBOX");
    if (!reply || !inbound) throw new Error("no reply or no inbound mail");
    expect(reply.threadId).toBe(inbound.threadId);
    expect(w.emu.header(reply, "Subject")).toBe("Re: Opening hours");

    // The sync worker meets the revoked grant: the same disconnection as the renewal's.
    w.emu.revokeGrants("hello@shop.example");
    await w.emu.deliver("hello@shop.example", {
      from: "jane@customer.example",
      to: "hello@shop.example",
      subject: "Still there?",
      text: "Hello?",
    });
    await raw(
      w.svc.db,
    )`update email_mailboxes set synced_at = now() - interval '1 hour' where address = 'hello@shop.example'`;
    expect((await poll()).status).toBe(200);
    const row = await eventually(
      () => mailboxRow(w, "hello@shop.example"),
      (r) => r?.status === "disconnected",
      15_000,
    );
    expect(row?.disconnectedReason).toBe("refresh_token_revoked");
    expect(w.emu.messages("hello@shop.example", "SENT")).toHaveLength(1);
  });
});
