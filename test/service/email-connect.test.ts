import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GMAIL_SCOPES } from "../../service/src/ports/gmail";
import { adminSuite, asKey, asUser, auditRows, type Body, json } from "./admin-helpers";
import {
  callback,
  connectMailbox,
  connectPath,
  consent,
  type EmailWorld,
  emailWorld,
  INTERNAL,
  issuedToken,
  mailboxesPath,
  mailboxRow,
  renewWatches,
  TOPIC,
  tenantWithAdmin,
} from "./email-connect-helpers";
import { raw } from "./helpers";

/**
 * Issue 15, "Connecting a mailbox": a tenant admin connects a Gmail mailbox through Google OAuth (state and
 * PKCE) against the emulator, with the real adapter; the refresh token lands in the secret store only.
 */

let w: EmailWorld;
let acme: { tenant: Body; admin: Record<string, string> };
let globex: { tenant: Body; admin: Record<string, string> };

beforeAll(async () => {
  w = await emailWorld();
  acme = await tenantWithAdmin(w.svc, "acme");
  globex = await tenantWithAdmin(w.svc, "globex");
});
afterAll(async () => {
  await w?.stop();
});

/** Every text of every row of every table, as the superuser reads it. */
async function everyRowText(): Promise<string> {
  const db = raw(w.svc.db);
  const tables = await db<{ tableName: string }[]>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`;
  const texts = await Promise.all(
    tables.map(({ tableName }) =>
      db.unsafe<{ row: string }[]>(`select row_to_json(t)::text as row from "${tableName}" t`),
    ),
  );
  return texts
    .flat()
    .map((r) => r.row)
    .join("\n");
}

describe("connecting a mailbox", () => {
  test("asks Google for offline access with consent, PKCE (S256) and the two Gmail scopes, then connects and watches the inbox", async () => {
    const back = await consent(w, acme.tenant, acme.admin, "support@acme.example");
    const asked = w.emu.oauth.authorizations.at(-1) ?? {};
    expect(asked).toMatchObject({
      response_type: "code",
      access_type: "offline",
      prompt: "consent",
      code_challenge_method: "S256",
      scope: GMAIL_SCOPES.join(" "),
      redirect_uri: "http://127.0.0.1:9/api/v1/email/oauth/callback",
    });
    expect(asked.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.state?.length).toBeGreaterThanOrEqual(40);
    // Only the state's hash is kept while the request is in flight.
    const pending = await raw(w.svc.db)<{ stateHash: string }[]>`select state_hash from email_oauth_requests`;
    expect(pending.map((p) => p.stateHash)).not.toContain(asked.state);

    const res = await callback(w, back);
    expect(res.status).toBe(200);
    const done = await json(res);
    expect(done).toMatchObject({
      tenant: { id: acme.tenant.id, name: "acme Inc" },
      mailbox: { address: "support@acme.example" },
      reconnected: false,
      watch: "active",
    });
    const row = await mailboxRow(w, "support@acme.example");
    expect(row).toMatchObject({
      tenantId: acme.tenant.id,
      status: "connected",
      connectionId: done.mailbox.connectionId,
    });
    expect(Number(row?.historyId)).toBeGreaterThan(0);
    expect(row?.watchExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(w.emu.mailbox("support@acme.example").watch).toMatchObject({
      topicName: TOPIC,
      labelIds: ["INBOX"],
    });
    const audit = await auditRows(w.svc.db, "email.mailbox_connected");
    expect(audit.at(-1)).toMatchObject({
      tenantId: acme.tenant.id,
      actor: "acme-admin",
      target: row?.connectionId,
    });
  });

  test("the refresh token is in the secret store, and nowhere in the database, the logs or an answer", async () => {
    const token = issuedToken(w, "support@acme.example");
    expect(token).toMatch(/^1\/\//);
    const row = await mailboxRow(w, "support@acme.example");
    const ref = row?.secretRefs.refreshToken ?? "";
    expect(await w.svc.secretStore.get(ref)).toBe(token);
    expect(await everyRowText()).not.toContain(token);
    expect(w.svc.logs.raw.join("\n")).not.toContain(token);
    const listed = await w.svc.call("GET", mailboxesPath(acme.tenant), undefined, acme.admin);
    const text = await listed.text();
    expect(text).not.toContain(token);
    expect(JSON.parse(text).mailboxes).toEqual([
      expect.objectContaining({
        address: "support@acme.example",
        status: "connected",
        reason: null,
        connectedBy: "acme-admin",
        watchExpiresAt: expect.any(String),
      }),
    ]);
  });

  test("a browser gets a page naming the mailbox and the tenant", async () => {
    const res = await callback(w, await consent(w, acme.tenant, acme.admin, "sales@acme.example"), true);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain("sales@acme.example is connected");
    expect(page).toContain("acme Inc");
  });

  test("connecting the same address again replaces its token and keeps one connection", async () => {
    const before = await mailboxRow(w, "support@acme.example");
    const done = await connectMailbox(w, acme.tenant, acme.admin, "support@acme.example");
    expect(done).toMatchObject({ reconnected: true, mailbox: { connectionId: before?.connectionId } });
    const after = await mailboxRow(w, "support@acme.example");
    expect(after?.secretRefs).toEqual(before?.secretRefs);
    expect(await w.svc.secretStore.get(after?.secretRefs.refreshToken ?? "")).toBe(
      issuedToken(w, "support@acme.example"),
    );
    const channels = await raw(
      w.svc.db,
    )`select 1 from channel_connections where public_id = 'support@acme.example'`;
    expect(channels).toHaveLength(1);
  });
});

describe("a callback that must not connect anything", () => {
  test("a wrong state, a state used already and an expired one are 400 invalid_state", async () => {
    const back = await consent(w, acme.tenant, acme.admin, "wrong@acme.example");
    const forged = new URL(back);
    forged.searchParams.set("state", "not-the-state");
    const wrong = await callback(w, forged);
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error.code).toBe("invalid_state");
    expect(await mailboxRow(w, "wrong@acme.example")).toBeUndefined();

    expect((await callback(w, back)).status).toBe(200);
    const reused = await callback(w, back);
    expect(reused.status).toBe(400);
    expect((await json(reused)).error.code).toBe("invalid_state");

    const late = await consent(w, acme.tenant, acme.admin, "late@acme.example");
    await raw(w.svc.db)`update email_oauth_requests set expires_at = now() - interval '1 second'`;
    const expired = await callback(w, late);
    expect(expired.status).toBe(400);
    expect((await json(expired)).error.code).toBe("invalid_state");
    expect(await mailboxRow(w, "late@acme.example")).toBeUndefined();
  });

  test("consent denied is 400 consent_denied, and its state cannot be used again", async () => {
    const back = await consent(w, acme.tenant, acme.admin, undefined);
    expect(back.searchParams.get("error")).toBe("access_denied");
    const denied = await callback(w, back);
    expect(denied.status).toBe(400);
    expect((await json(denied)).error.code).toBe("consent_denied");
    const again = new URL(back);
    again.searchParams.delete("error");
    again.searchParams.set("code", "4/0Ad-guessed");
    expect((await json(await callback(w, again))).error.code).toBe("invalid_state");
  });

  test("an address another tenant connected is 409 mailbox_taken; that tenant's mailbox is untouched and the new grant revoked", async () => {
    const token = issuedToken(w, "support@acme.example");
    const res = await callback(w, await consent(w, globex.tenant, globex.admin, "support@acme.example"));
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("mailbox_taken");
    expect(await mailboxRow(w, "support@acme.example")).toMatchObject({
      tenantId: acme.tenant.id,
      status: "connected",
    });
    // Acme's token still works; Globex's attempt left no live grant.
    expect((await w.google.mailbox(token).profile()).emailAddress).toBe("support@acme.example");
    expect(w.emu.oauth.grants.at(-1)?.revoked).toBe(true);
    const listed = await w.svc.call("GET", mailboxesPath(globex.tenant), undefined, globex.admin);
    expect((await json(listed)).mailboxes).toEqual([]);
  });
});

describe("tenant isolation", () => {
  test("a tenant's admin cannot list, connect or disconnect another tenant's mailboxes", async () => {
    const acmeBox = await mailboxRow(w, "support@acme.example");
    const other = { ...globex.admin };
    for (const [method, path] of [
      ["GET", mailboxesPath(acme.tenant)],
      ["GET", connectPath(acme.tenant)],
      ["DELETE", `${mailboxesPath(acme.tenant)}/${acmeBox?.connectionId}`],
    ] as const) {
      const res = await fetch(`${w.svc.url}${path}`, { method, headers: other, redirect: "manual" });
      expect(res.status).toBe(404);
    }
    // Its own tenant's path with the other tenant's mailbox: no such mailbox.
    const res = await w.svc.call(
      "DELETE",
      `${mailboxesPath(globex.tenant)}/${acmeBox?.connectionId}`,
      undefined,
      other,
    );
    expect(res.status).toBe(404);
    expect(await mailboxRow(w, "support@acme.example")).toMatchObject({ status: "connected" });
  });

  test("a state lands in the tenant that started it, whoever consents", async () => {
    const done = await connectMailbox(w, globex.tenant, globex.admin, "help@globex.example");
    expect(done.tenant.id).toBe(globex.tenant.id);
    expect((await mailboxRow(w, "help@globex.example"))?.tenantId).toBe(globex.tenant.id);
    const acmeList = await json(await w.svc.call("GET", mailboxesPath(acme.tenant), undefined, acme.admin));
    expect(acmeList.mailboxes.map((m: Body) => m.address)).not.toContain("help@globex.example");
  });

  test("agents may not connect mailboxes", async () => {
    const agent = await asUser({ sub: "acme-agent", role: "agent", tenant: acme.tenant.id });
    const res = await fetch(`${w.svc.url}${connectPath(acme.tenant)}`, {
      headers: agent,
      redirect: "manual",
    });
    expect(res.status).toBe(403);
  });
});

describe("housekeeping", () => {
  test("the poll's sweep purges OAuth requests nobody finished", async () => {
    await consent(w, acme.tenant, acme.admin, "never@acme.example");
    await raw(w.svc.db)`update email_oauth_requests set expires_at = now() - interval '1 minute'`;
    const res = await w.svc.post("/internal/poll", undefined, { "x-internal-token": INTERNAL });
    expect(res.status).toBe(200);
    expect((await json(res)).sweeps["email-watches"].oauthRequestsPurged).toBeGreaterThanOrEqual(1);
    expect(await raw(w.svc.db)`select 1 from email_oauth_requests`).toHaveLength(0);
  });
});

describe("a deployment without Pub/Sub (GMAIL_PUBSUB_TOPIC unset)", () => {
  test("connects the mailbox without a watch, and says so in the answer and the log", async () => {
    const local = await emailWorld({ GMAIL_PUBSUB_TOPIC: "" });
    try {
      const shop = await tenantWithAdmin(local.svc, "shop");
      const res = await callback(
        local,
        await consent(local, shop.tenant, shop.admin, "hi@shop.example"),
        true,
      );
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("no Pub/Sub topic");
      expect(local.emu.mailbox("hi@shop.example").watch).toBeUndefined();
      expect((await mailboxRow(local, "hi@shop.example"))?.watchExpiresAt).toBeNull();
      expect(local.svc.logs.events("email.mailbox_connected").at(-1)).toMatchObject({ watch: "none" });
      expect(await renewWatches(local)).toMatchObject({ due: 0, renewed: 0 });
    } finally {
      await local.stop();
    }
  });
});

describe("a deployment without an OAuth client", () => {
  test("connect is 409 email_not_configured naming what to set; the renewal is 503", async () => {
    const { svc, stop } = await adminSuite({ INTERNAL_SHARED_SECRET: INTERNAL, POLLING_INTERVAL: "0" });
    try {
      const tenant = await json(
        await svc.call("POST", "/api/v1/admin/tenants", { slug: "plain", name: "Plain" }, asKey),
      );
      const res = await fetch(`${svc.url}/api/v1/admin/tenants/${tenant.id}/email/connect`, {
        headers: asKey,
        redirect: "manual",
      });
      expect(res.status).toBe(409);
      const error = (await json(res)).error;
      expect(error.code).toBe("email_not_configured");
      expect(error.message).toContain("GOOGLE_OAUTH_CLIENT_ID");
      expect(error.message).toContain("/api/v1/email/oauth/callback");
      const renew = await svc.post("/internal/email/renew-watches", undefined, {
        "x-internal-token": INTERNAL,
      });
      expect(renew.status).toBe(503);
    } finally {
      await stop();
    }
  });
});
