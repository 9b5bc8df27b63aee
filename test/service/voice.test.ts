import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { startTelnyxEmulator, type TelnyxEmulator, telnyxWebhookSigner } from "../emulators/telnyx";
import { initializationBody, newCallIds, playCall } from "../emulators/telnyx-voice";
import {
  type AdminService,
  adminSuite,
  asKey,
  asUser,
  auditRows,
  type Body,
  createTenant,
  json,
  startAdminService,
} from "./admin-helpers";
import { eventually, raw } from "./helpers";

/**
 * Issue 14, voice, end to end through the real service: a tenant's Telnyx connection, the assistant's
 * dynamic-variables request, the signed end-of-call and insights events, the transcript read through the
 * official client from the emulator's conversations API, and the calls in the admin API.
 */

const PUBLIC_URL = "https://voice.switchboard.test";
const GLOBEX = { number: "+15550100002", apiKey: "KEY_globex_voice" };
const INITECH = { number: "+15550100003", apiKey: "KEY_initech_voice" };
const CALLER = "+15557654321";

let telnyx: TelnyxEmulator;
let db: Database;
let svc: AdminService;
let stop: () => Promise<void>;
let globex: Body;
let initech: Body;
let urls: { dynamicVariablesUrl: string; eventsUrl: string };
let initechUrls: { dynamicVariablesUrl: string; eventsUrl: string };
let globexChannel: string;

/** The URLs the admin API shows, reached directly (as an edge would forward them). */
const local = (u: { dynamicVariablesUrl: string; eventsUrl: string }) => ({
  dynamicVariablesUrl: u.dynamicVariablesUrl.replace(PUBLIC_URL, svc.url),
  eventsUrl: u.eventsUrl.replace(PUBLIC_URL, svc.url),
});

async function connect(tenant: Body, number: string, apiKey: string) {
  const body = { kind: "telnyx", phoneNumber: number, apiKey, publicKey: telnyx.publicKey };
  const res = await svc.call("POST", `/api/v1/admin/tenants/${tenant.id}/channels`, body, asKey);
  if (res.status !== 201) throw new Error(`connect: ${res.status} ${await res.text()}`);
  return json(res);
}

beforeAll(async () => {
  telnyx = await startTelnyxEmulator({ apiKey: GLOBEX.apiKey });
  ({ db, svc, stop } = await adminSuite({
    PUBLIC_URL,
    TELNYX_API_BASE: telnyx.apiBase,
    POLLING_INTERVAL: "0",
  }));
  globex = await createTenant(svc, "voice-globex", "Globex");
  initech = await createTenant(svc, "voice-initech", "Initech");
  const settings = {
    promptVariables: {
      businessName: "Globex Plumbing",
      hours: "weekdays 8 to 6",
      escalationContact: "the on-call plumber at +15550109999",
    },
    widget: { greeting: "Globex Plumbing, how can we help?" },
  };
  const patched = await svc.call("PATCH", `/api/v1/admin/tenants/${globex.id}/settings`, settings, asKey);
  if (patched.status !== 200) throw new Error(`settings: ${patched.status} ${await patched.text()}`);
  const created = await connect(globex, GLOBEX.number, GLOBEX.apiKey);
  urls = created.voice;
  globexChannel = created.id;
  initechUrls = (await connect(initech, INITECH.number, INITECH.apiKey)).voice;
});
afterAll(async () => {
  await stop?.();
  await telnyx?.close();
});

async function variables(body: string, opts: { url?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(opts.url ?? local(urls).dynamicVariablesUrl, {
    method: "POST",
    headers: opts.headers ?? { "content-type": "application/json" },
    body,
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const counts = async () =>
  (
    await raw(db)`select (select count(*)::int from calls) as calls,
                         (select count(*)::int from contacts where phone = ${CALLER}) as contacts,
                         (select count(*)::int from webhook_deliveries where channel = 'voice') as deliveries`
  )[0];

describe("the assistant's dynamic variables", () => {
  test("the Telnyx connection's answer names both assistant URLs, the variables one with its token", () => {
    expect(urls.dynamicVariablesUrl).toMatch(
      new RegExp(`^${PUBLIC_URL}/webhooks/telnyx/voice/dynamic-variables\\?token=[A-Za-z0-9_-]{32}$`),
    );
    expect(urls.eventsUrl).toMatch(new RegExp(`^${PUBLIC_URL}/webhooks/telnyx/voice/events\\?connection=`));
  });

  test("an unknown caller gets the tenant's business name, hours, greeting and escalation contact", async () => {
    const res = await variables(
      initializationBody({ from: "+15557650000", to: GLOBEX.number }, newCallIds()),
    );
    expect(res.status).toBe(200);
    expect(res.body.dynamic_variables).toMatchObject({
      business_name: "Globex Plumbing",
      hours: "weekdays 8 to 6",
      greeting: "Globex Plumbing, how can we help?",
      escalation_contact: "the on-call plumber at +15550109999",
      caller_known: "false",
      caller_name: "",
      caller_open_escalations: "0",
      last_conversation_summary: "",
    });
  });

  test("a tenant without voice settings is named by its display name", async () => {
    const res = await variables(initializationBody({ from: CALLER, to: INITECH.number }, newCallIds()), {
      url: local(initechUrls).dynamicVariablesUrl,
    });
    expect(res.body.dynamic_variables.business_name).toBe("Initech");
    expect(res.body.dynamic_variables.greeting).toContain("Initech");
  });

  test("a known caller: their name, open escalations and their last conversation's summary", async () => {
    const sql = raw(db);
    const [contact] = await sql<{ id: string }[]>`
      insert into contacts (tenant_id, phone, name) values (${globex.id}, '+15557650001', 'Dana Scully')
      returning id`;
    await sql`insert into escalations (tenant_id, contact_id, channel, conversation_id, reason)
              values (${globex.id}, ${contact?.id}, 'sms', '+15557650001', 'asked_for_person')`;
    await sql`insert into calls (tenant_id, call_control_id, contact_id, summary, ended_at)
              values (${globex.id}, 'v3:earlier', ${contact?.id}, 'Asked about a leaking boiler.', now())`;
    const res = await variables(
      initializationBody({ from: "+15557650001", to: GLOBEX.number }, newCallIds()),
    );
    expect(res.body.dynamic_variables).toMatchObject({
      business_name: "Globex Plumbing",
      caller_known: "true",
      caller_name: "Dana Scully",
      caller_open_escalations: "1",
      last_conversation_summary: "Asked about a leaking boiler.",
    });
  });

  test("a caller id Telnyx could not verify (spoofable): greeted by name, never told the last conversation", async () => {
    const body = initializationBody(
      { from: "+15557650001", to: GLOBEX.number, verified: false },
      newCallIds(),
    );
    const res = await variables(body);
    expect(res.body.dynamic_variables).toMatchObject({
      caller_name: "Dana Scully",
      caller_verified: "false",
      last_conversation_summary: "",
    });
  });

  test("a number no tenant has: safe defaults, still 200", async () => {
    const res = await variables(initializationBody({ from: CALLER, to: "+15550199999" }, newCallIds()));
    expect(res.status).toBe(200);
    expect(res.body.dynamic_variables).toMatchObject({ business_name: "", caller_name: "" });
    expect(res.body.dynamic_variables.greeting).not.toBe("");
  });

  test("another tenant's URL token does not open this tenant's number (401)", async () => {
    const body = initializationBody({ from: "+15557650001", to: GLOBEX.number }, newCallIds());
    const res = await variables(body, { url: local(initechUrls).dynamicVariablesUrl });
    expect(res.status).toBe(401);
  });

  test("without the URL token or a signature nothing of the tenant is told (401)", async () => {
    const body = initializationBody({ from: "+15557650001", to: GLOBEX.number }, newCallIds());
    const bare = local(urls).dynamicVariablesUrl.replace(/\?token=.*$/, "");
    expect((await variables(body, { url: bare })).status).toBe(401);
    const wrong = `${bare}?token=${"A".repeat(32)}`;
    const res = await variables(body, { url: wrong });
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toContain("Scully");
  });

  test("a request Telnyx signed is taken without the token; a forged signature is refused", async () => {
    const body = initializationBody({ from: "+15557650001", to: GLOBEX.number }, newCallIds());
    const bare = local(urls).dynamicVariablesUrl.replace(/\?token=.*$/, "");
    const signed = await variables(body, { url: bare, headers: telnyx.signTelnyxWebhook(body) });
    expect(signed.body.dynamic_variables?.caller_name).toBe("Dana Scully");
    const forged = await variables(body, { url: bare, headers: telnyxWebhookSigner().sign(body) });
    expect(forged.status).toBe(401);
  });
});

describe("a call's events", () => {
  test("a completed call delivered three times: one call, one contact, the transcript redacted", async () => {
    const before = await counts();
    const played = await playCall(telnyx, local(urls), {
      from: CALLER,
      to: GLOBEX.number,
      durationSec: 95,
      deliveries: 3,
      lines: [
        { role: "assistant", text: "Globex Plumbing, how can we help?" },
        { role: "user", text: "My sink is leaking, write to me at jane.doe@example.com please." },
        { role: "assistant", text: "We will send a plumber tomorrow morning." },
      ],
    });
    expect(played.variables.status).toBe(200);
    expect(played.events).toEqual([200, 200, 200]);
    const rows = await eventually(
      () => raw(db)`select * from calls where call_control_id = ${played.ids.callControlId}`,
      (r) => r.length === 1 && r[0]?.endedAt !== null,
    );
    expect(rows).toHaveLength(1);
    const after = await counts();
    expect(after).toEqual({
      calls: (before?.calls ?? 0) + 1,
      contacts: 1,
      deliveries: (before?.deliveries ?? 0) + 1,
    });
    const call = rows[0] as Body;
    expect(call).toMatchObject({
      conversationId: played.ids.conversationId,
      fromNumber: CALLER,
      toNumber: GLOBEX.number,
      durationSec: 95,
      reason: "user_hangup",
    });
    const [contact] = await raw(db)`select id, channels from contacts where phone = ${CALLER}`;
    expect(call.contactId).toBe(contact?.id);
    expect(contact?.channels).toEqual(["voice"]);
    const text = JSON.stringify(call.transcript);
    expect(call.transcript).toHaveLength(3);
    expect(text).toContain("[EMAIL]");
    expect(text).not.toContain("jane.doe@example.com");
    // The row finishes once the call's follow-up (contact merge, extraction) has run.
    const [outbox] = await eventually(
      () => raw(db)`select status, outcome from outbox where conversation_id = ${played.ids.callControlId}`,
      (r) => r[0]?.status !== "pending",
    );
    expect(outbox).toEqual({ status: "done", outcome: "call_stored" });
    // The address the caller spoke reaches their contact (and only it: the transcript holds "[EMAIL]").
    const [withEmail] = await raw(db)`select email from contacts where phone = ${CALLER}`;
    expect(withEmail?.email).toBe("jane.doe@example.com");
  });

  test("a long call: every page of the transcript is read", async () => {
    const lines = Array.from({ length: 130 }, (_, i) => ({
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      text: `line ${i}`,
    }));
    const played = await playCall(telnyx, local(urls), { from: "+15557650002", to: GLOBEX.number, lines });
    const [call] = await eventually(
      () => raw(db)`select transcript from calls where call_control_id = ${played.ids.callControlId}`,
      (r) => (r[0]?.transcript as unknown[] | undefined)?.length === 130,
    );
    const transcript = call?.transcript as { text: string }[];
    expect(transcript.map((m) => m.text)).toEqual(lines.map((l) => l.text));
    const pages = telnyx.requests.filter(
      (r) => r.path === `/v2/ai/conversations/${played.ids.conversationId}/messages`,
    );
    expect(pages.map((r) => r.query["page[number]"] ?? "1")).toEqual(["1", "2"]);
  });

  test.each([
    ["after", false],
    ["before", true],
  ])("insights that arrive %s the end are stored with the call", async (_when, insightsFirst) => {
    const played = await playCall(telnyx, local(urls), {
      from: "+15557650003",
      to: GLOBEX.number,
      lines: [{ role: "user", text: "Do you fix water heaters?" }],
      insights: [{ insightId: "sentiment", result: "positive" }],
      insightsFirst,
      deliveries: 2,
    });
    const [call] = await eventually(
      () =>
        raw(
          db,
        )`select insights, ended_at, transcript from calls where call_control_id = ${played.ids.callControlId}`,
      (r) => r[0]?.endedAt != null && (r[0]?.insights as unknown[]).length === 1,
    );
    expect((call?.insights as Body[])[0]).toMatchObject({
      results: [{ insightId: "sentiment", result: "positive" }],
    });
    expect(call?.transcript).toHaveLength(1);
  });

  test("a signed body that is not a Telnyx event: 400 with the reason; a number nobody has: 200 unrouted", async () => {
    const post = (body: string, url = local(urls).eventsUrl) =>
      fetch(url, { method: "POST", headers: telnyx.signTelnyxWebhook(body), body });
    const notJson = await post("{not json");
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error.code).toBe("invalid_json");
    const ids = newCallIds();
    const incomplete = JSON.stringify({
      data: {
        record_type: "event",
        id: "incomplete-event",
        event_type: "call.conversation.ended",
        payload: { call_control_id: ids.callControlId, to: GLOBEX.number },
      },
    });
    const refused = await post(incomplete);
    expect(refused.status).toBe(400);
    expect((await json(refused)).error.message).toContain("conversation_id");
    const elsewhere = JSON.stringify({
      data: { ...JSON.parse(incomplete).data, payload: { call_control_id: "x", to: "+15550199999" } },
    });
    const unrouted = await post(elsewhere, local(urls).eventsUrl.replace(/\?.*$/, ""));
    expect(await json(unrouted)).toEqual({ status: "unrouted", queued: 0 });
  });

  test("a forged signature: 401, nothing stored", async () => {
    const before = await counts();
    const ids = newCallIds();
    const event = {
      data: {
        record_type: "event",
        id: "forged-event",
        event_type: "call.conversation.ended",
        occurred_at: new Date().toISOString(),
        payload: {
          call_control_id: ids.callControlId,
          conversation_id: ids.conversationId,
          from: CALLER,
          to: GLOBEX.number,
        },
      },
    };
    const body = JSON.stringify(event);
    const res = await fetch(local(urls).eventsUrl, {
      method: "POST",
      headers: telnyxWebhookSigner().sign(body),
      body,
    });
    expect(res.status).toBe(401);
    expect(await counts()).toEqual(before);
  });
});

describe("calls in the admin API", () => {
  const path = () => `/api/v1/admin/tenants/${globex.id}/calls`;

  test("an agent lists the tenant's calls newest first, page by page, and filters them", async () => {
    const agent = await asUser({ sub: "agent-1", role: "agent", tenant: globex.id });
    const first = await json(await svc.call("GET", `${path()}?limit=2`, undefined, agent));
    expect(first.calls).toHaveLength(2);
    const second = await json(
      await svc.call("GET", `${path()}?limit=2&cursor=${first.nextCursor}`, undefined, agent),
    );
    const ids = [...first.calls, ...second.calls].map((c: Body) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const byNumber = await json(
      await svc.call("GET", `${path()}?number=${encodeURIComponent(CALLER)}`, undefined, agent),
    );
    expect(byNumber.calls).toHaveLength(1);
    expect(byNumber.calls[0]).toMatchObject({
      from: CALLER,
      to: GLOBEX.number,
      durationSec: 95,
      ended: true,
    });
    const [contact] = await raw(db)`select id from contacts where phone = ${CALLER}`;
    const byContact = await json(
      await svc.call("GET", `${path()}?contactId=${contact?.id}`, undefined, agent),
    );
    expect(byContact.calls.map((c: Body) => c.id)).toEqual([byNumber.calls[0].id]);
    const future = await json(
      await svc.call("GET", `${path()}?since=2999-01-01T00:00:00Z`, undefined, agent),
    );
    expect(future.calls).toEqual([]);
  });

  test("one call: its transcript and insights; another tenant's admin gets 404", async () => {
    const agent = await asUser({ sub: "agent-1", role: "agent", tenant: globex.id });
    const list = await json(
      await svc.call("GET", `${path()}?number=${encodeURIComponent(CALLER)}`, undefined, agent),
    );
    const id = list.calls[0].id as string;
    const res = await svc.call("GET", `${path()}/${id}`, undefined, agent);
    expect(res.status).toBe(200);
    const call = await json(res);
    expect(call.transcript[1]).toMatchObject({ role: "user" });
    expect(call.transcript[1].text).toContain("[EMAIL]");
    const other = await asUser({ sub: "admin-2", role: "tenant_admin", tenant: initech.id });
    expect((await svc.call("GET", `${path()}/${id}`, undefined, other)).status).toBe(404);
    expect(
      (await svc.call("GET", `/api/v1/admin/tenants/${initech.id}/calls/${id}`, undefined, other)).status,
    ).toBe(404);
  });

  test("a number that is not one is a 400, not an empty page", async () => {
    const res = await svc.call("GET", `${path()}?number=hello`, undefined, asKey);
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("validation_failed");
  });
});

describe("erasing a caller", () => {
  test("their calls go with their contact; another caller's stay", async () => {
    const others = await raw(db)`select count(*)::int as n from calls where from_number <> ${CALLER}`;
    const res = await svc.call(
      "DELETE",
      `/api/v1/admin/tenants/${globex.id}/contacts/phone/${encodeURIComponent(CALLER)}`,
      undefined,
      asKey,
    );
    expect(res.status).toBe(200);
    expect((await json(res)).counts).toMatchObject({ calls: 1, contacts: 1 });
    expect(await raw(db)`select 1 from calls where from_number = ${CALLER}`).toHaveLength(0);
    expect(await raw(db)`select count(*)::int as n from calls where from_number <> ${CALLER}`).toEqual(
      others,
    );
  });
});

describe("the dynamic-variables URL's token", () => {
  const body = () => initializationBody({ from: CALLER, to: GLOBEX.number }, newCallIds());
  /** The same database through another instance: its credential cache is cold, as after a minute. */
  async function instance(env: Record<string, string> = {}) {
    return startAdminService(db, {
      PUBLIC_URL,
      TELNYX_API_BASE: telnyx.apiBase,
      POLLING_INTERVAL: "0",
      ...env,
    });
  }
  const at = (other: AdminService, url: string) => url.replace(PUBLIC_URL, other.url);

  test("the channel list names the events URL and that a token is set, never the token", async () => {
    const res = await svc.call("GET", `/api/v1/admin/tenants/${globex.id}/channels`, undefined, asKey);
    const text = await res.text();
    const token = new URL(urls.dynamicVariablesUrl).searchParams.get("token") as string;
    expect(text).not.toContain(token);
    const [channel] = (JSON.parse(text) as { channels: Body[] }).channels;
    expect(channel?.credentials).toEqual({ apiKey: "set", publicKey: "set", voiceToken: "set" });
    expect(channel?.voice).toEqual({ eventsUrl: urls.eventsUrl });
  });

  test("a tenant cannot choose the token through the credentials route (400)", async () => {
    const path = `/api/v1/admin/tenants/${globex.id}/channels/${globexChannel}/credentials`;
    const res = await svc.call("PUT", path, { voiceToken: "easy-to-guess" }, asKey);
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: "validation_failed" });
    expect((await variables(body())).status).toBe(200);
  });

  test("a session signing key rotated, the previous one dropped: the pasted URL still verifies", async () => {
    const rotated = await instance({ SESSION_SIGNING_KEY: "a-new-session-signing-key-fedcba9876543210" });
    try {
      const res = await variables(body(), { url: at(rotated, urls.dynamicVariablesUrl) });
      expect(res.status).toBe(200);
      expect(res.body.dynamic_variables.business_name).toBe("Globex Plumbing");
    } finally {
      await rotated.close();
    }
  });

  test("re-issued: the answer shows the new URL once, audited without it; only the new one verifies", async () => {
    const path = `/api/v1/admin/tenants/${globex.id}/channels/${globexChannel}/voice-token`;
    const res = await svc.call("POST", path, undefined, asKey);
    expect(res.status).toBe(200);
    const { voice } = (await json(res)) as { voice: { dynamicVariablesUrl: string; eventsUrl: string } };
    expect(voice.eventsUrl).toBe(urls.eventsUrl);
    expect(voice.dynamicVariablesUrl).toMatch(/\?token=[A-Za-z0-9_-]{32}$/);
    expect(voice.dynamicVariablesUrl).not.toBe(urls.dynamicVariablesUrl);
    const token = new URL(voice.dynamicVariablesUrl).searchParams.get("token") as string;
    const audit = (await auditRows(db, "credential.rotated")).filter((r) => r.target === globexChannel);
    expect(audit.at(-1)?.summary).toEqual({ credentials: ["voiceToken"] });
    expect(JSON.stringify(audit)).not.toContain(token);
    const fresh = await instance();
    try {
      expect((await variables(body(), { url: at(fresh, urls.dynamicVariablesUrl) })).status).toBe(401);
      const res2 = await variables(body(), { url: at(fresh, voice.dynamicVariablesUrl) });
      expect(res2.status).toBe(200);
      expect(res2.body.dynamic_variables.business_name).toBe("Globex Plumbing");
    } finally {
      await fresh.close();
    }
  });

  test("only a Telnyx connection has a token to re-issue; an unknown connection is a 404", async () => {
    const path = `/api/v1/admin/tenants/${initech.id}/channels/${globexChannel}/voice-token`;
    expect((await svc.call("POST", path, undefined, asKey)).status).toBe(404);
  });
});
