import { randomBytes, randomUUID } from "node:crypto";
import { DatabaseSecretStore } from "../../service/src/adapters/database-secret-store";
import { buildModelStack, type ModelStack } from "../../service/src/compose/model-stack";
import { parseConfig } from "../../service/src/config";
import { appendAudit } from "../../service/src/db/audit";
import { recordCallInsights, recordEndedCall } from "../../service/src/db/calls";
import { insertChannel, setChannelSecretRefs } from "../../service/src/db/channels";
import type { Sql } from "../../service/src/db/client";
import { upsertContactByPhone } from "../../service/src/db/contacts";
import { setCursor } from "../../service/src/db/cursors";
import { eraseSubject } from "../../service/src/db/erasure";
import { openHandoff } from "../../service/src/db/handoffs";
import { putDocument } from "../../service/src/db/knowledge";
import { saveModelCache } from "../../service/src/db/model-caches";
import { queueMessages, recordDelivery } from "../../service/src/db/pipeline";
import { createTenant } from "../../service/src/db/platform";
import { saveProviderSession } from "../../service/src/db/provider-sessions";
import { recordConsent } from "../../service/src/db/sms-consent";
import { insertSmsMessage } from "../../service/src/db/sms-messages";
import { claimQuotaNotice } from "../../service/src/db/sms-quota";
import { inTenant } from "../../service/src/db/tenant-scope";
import { addTenantUser } from "../../service/src/db/tenant-users";
import type { Identity } from "../../service/src/domain/identity";
import { userIdentityId } from "../../service/src/http/auth";
import { createLogger } from "../../service/src/logger";
import { type ContactsSeed, seedContacts } from "./tenant-contacts-seed";
import { seedEmail } from "./tenant-email-cases";
import { seedEscalations } from "./tenant-escalation-cases";
import { seedEscalationReplies } from "./tenant-escalation-reply-cases";
import { seedWebhooks, type WebhookSeed } from "./tenant-webhooks-seed";

/**
 * Two tenants' worth of data for the isolation tests: every tenant-owned table gets rows, written through
 * the real repository functions and the real engine inside the tenant's scope. Each tenant's text carries
 * its marker (`alpha…`, `bravo…`), so "nothing of B's" is checkable on any returned value.
 */

export const ISSUER = "https://auth.example.com";

/** Shared by both tenants on purpose: the same external ids must not cross tenants. */
export const SHARED = {
  conversationId: "conv-shared",
  documentSlug: "shared-doc",
  cacheKey: "shared-cache-key",
  /** A customer who texts both tenants. */
  phone: "+14155550100",
  /** The e-mail address that customer gave both tenants. */
  email: "shared-person@example.com",
  /** A call leg id both tenants' assistants report (ids from two Telnyx accounts may meet). */
  callControlId: "v3:shared-call-leg",
  /** A user JWT's identity that both tenants have (same issuer and `sub`). */
  userIdentity: userIdentityId(ISSUER, "alice"),
} as const;

export interface SeededTenant extends WebhookSeed, ContactsSeed {
  id: string;
  slug: string;
  widgetKey: string;
  /** Appears in every text this tenant stored: found in a result, it is a leak. */
  marker: string;
  identityId: string;
  /** A web session of `identityId`, and one of the shared user identity. */
  sessionId: string;
  sharedUserSessionId: string;
  /** The Intercom session tied to SHARED.conversationId. */
  intercomSessionId: string;
  contactId: string;
  ownDocumentSlug: string;
  ownConversationId: string;
  outboxIds: string[];
  handoffId: string;
  cursorKey: string;
  ownCacheKey: string;
  secretRef: string;
  secretId: string;
  /** The fingerprint of the key this tenant's secrets are sealed with. */
  secretKeyId: string;
  channelConnectionId: string;
  channelPublicId: string;
  tenantUserId: string;
  /** The tenant's contact of SHARED.phone, and its outbound text's record and provider id. */
  smsContactId: string;
  smsMessageId: string;
  smsProviderMessageId: string;
  /** The tenant's claimed escalation (of conversation `esc-<marker>`) and its e-mail notification. */
  escalationId: string;
  escalationConversationId: string;
  notificationId: string;
  /** A call from SHARED.phone (its contact), keyed by the call leg both tenants' calls share (SHARED.callControlId). */
  callId: string;
  /** The tenant's connected Gmail mailbox (channel connection id and address). */
  mailboxConnectionId: string;
  mailboxAddress: string;
  /** The tenant's outbound e-mail (a reply still `sending`) in that mailbox. */
  emailOutboundId: string;
}

export const identity = (id: string, kind: Identity["kind"] = "user"): Identity => ({
  id,
  kind,
  tier: "free",
});

/** The real engine stack (local model: knowledge-base answers) on `sql`. */
export function modelStack(sql: Sql): Promise<ModelStack> {
  const config = parseConfig({ MODEL_PROVIDER: "local", KNOWLEDGE_DIR: "service/knowledge" });
  return buildModelStack(config, { sql, log: createLogger({ level: "silent" }) });
}

async function engineTurns(stack: ModelStack, marker: string, contactId: string) {
  const turn = async (who: Identity, extra: { externalRef?: string; channel?: "web" | "intercom" } = {}) =>
    (
      await stack.engine.respond({
        identity: who,
        channel: extra.channel ?? "web",
        externalRef: extra.externalRef,
        message: `${marker} asks: how do I reset my password?`,
      })
    ).sessionId;
  const identityId = `user:${marker}-person`;
  const sessionId = await turn(identity(identityId));
  const sharedUserSessionId = await turn(identity(SHARED.userIdentity));
  const intercomSessionId = await turn(identity(`intercom:${contactId}`, "intercom"), {
    channel: "intercom",
    externalRef: SHARED.conversationId,
  });
  return { identityId, sessionId, sharedUserSessionId, intercomSessionId };
}

async function knowledge(sql: Sql, marker: string) {
  const chunk = (slug: string) => ({
    source: slug,
    heading: `${marker} heading`,
    body: `${marker} knowledge body`,
  });
  const ownDocumentSlug = `${marker}-only`;
  for (const slug of [SHARED.documentSlug, ownDocumentSlug]) {
    await putDocument(sql, { slug, title: `${marker} title`, body: `${marker} body` }, [chunk(slug)]);
  }
  return { ownDocumentSlug };
}

async function pipeline(sql: Sql, marker: string, contactId: string) {
  const outboxIds = [randomUUID(), randomUUID()];
  const ownConversationId = `conv-${marker}`;
  await recordDelivery(
    sql,
    "intercom",
    { id: `notif-${marker}`, topic: "conversation.user.replied" },
    [{ conversationId: SHARED.conversationId, contactId, handover: null }],
    [
      {
        id: outboxIds[0] as string,
        conversationId: SHARED.conversationId,
        partId: "part-1",
        body: `${marker} part`,
      },
    ],
  );
  await queueMessages(sql, "intercom", { conversationId: ownConversationId, contactId }, [
    {
      id: outboxIds[1] as string,
      conversationId: ownConversationId,
      partId: "part-1",
      body: `${marker} polled`,
    },
  ]);
  const handoff = await openHandoff(
    sql,
    { channel: "intercom", conversationId: SHARED.conversationId },
    `${marker} reason`,
  );
  return { outboxIds, ownConversationId, handoffId: handoff.id };
}

async function state(sql: Sql, marker: string, sessionId: string) {
  const cursorKey = `intercom.cursor.${marker}`;
  await setCursor(sql, cursorKey, `${marker}-cursor`);
  await saveProviderSession(sql, sessionId, `${marker}-provider-session`);
  const ownCacheKey = `${marker}-cache`;
  for (const key of [SHARED.cacheKey, ownCacheKey]) {
    const expiresAt = new Date(Date.now() + 3_600_000);
    await saveModelCache(sql, { key, name: `cachedContents/${marker}`, model: "m", tokens: 1, expiresAt });
  }
  return { cursorKey, ownCacheKey };
}

/** The admin API's tables, through their repository functions (as the admin routes write them). */
async function adminRows(sql: Sql, marker: string) {
  const channelPublicId = `${marker}-intercom-app`;
  const channelConnectionId = randomUUID();
  await insertChannel(sql, {
    id: channelConnectionId,
    kind: "intercom",
    publicId: channelPublicId,
    settings: { note: `${marker} settings` },
  });
  await setChannelSecretRefs(sql, channelConnectionId, { token: `db-secret:${marker}` });
  const user = await addTenantUser(sql, {
    subject: `${marker}-admin`,
    email: `${marker}@example.com`,
    role: "tenant_admin",
  });
  await appendAudit(sql, {
    actor: `${marker}-admin`,
    role: "tenant_admin",
    action: "settings.updated",
    target: `${marker}-target`,
    summary: { marker },
  });
  return { channelConnectionId, channelPublicId, tenantUserId: user?.id as string };
}

async function secret(sql: Sql, tenantId: string) {
  // Each tenant's store has its own key, so a key id seen by the other tenant would be a leak too.
  const store = new DatabaseSecretStore(sql, { key: randomBytes(32) });
  const secretRef = await store.put({ tenantId, kind: "intercom-access-token" }, "s3cret-token");
  return {
    secretRef,
    secretId: secretRef.slice(secretRef.indexOf(":") + 1),
    secretKeyId: store.currentKeyId,
  };
}

/** A texting customer (SHARED.phone): contact, consent events, a delivery record, a quota notice. */
async function sms(sql: Sql, marker: string) {
  const contact = await upsertContactByPhone(sql, SHARED.phone);
  await sql`update contacts set name = ${`${marker} name`} where id = ${contact.id}`;
  // Alpha's number ends opted out, bravo's opted in: a leaked event would show in the current state.
  const last = marker.startsWith("b") ? "opted_in" : "opted_out";
  await recordConsent(sql, { phone: SHARED.phone, status: "opted_out", source: "keyword", keyword: "STOP" });
  await recordConsent(sql, { phone: SHARED.phone, status: last, source: "keyword", keyword: `${marker}` });
  const smsProviderMessageId = `SM-${marker}`;
  const smsMessageId = (await insertSmsMessage(sql, {
    connectionId: null,
    direction: "outbound",
    provider: "twilio",
    providerMessageId: smsProviderMessageId,
    customerPhone: SHARED.phone,
    businessPhone: "+15550000000",
    purpose: "reply",
    replyTo: `${marker}-in`,
    status: "sent",
  })) as string;
  await claimQuotaNotice(sql, SHARED.phone, `day:${marker}`);
  return { smsContactId: contact.id, smsMessageId, smsProviderMessageId };
}

/** A call of SHARED.phone answered by the tenant's assistant, with its transcript, insights and summary. */
async function call(sql: Sql, marker: string, contactId: string) {
  const { id } = await recordEndedCall(sql, {
    connectionId: null,
    callControlId: SHARED.callControlId,
    conversationId: `conversation-${marker}`,
    callSessionId: null,
    assistantId: `assistant-${marker}`,
    fromNumber: SHARED.phone,
    toNumber: "+15550000000",
    contactId,
    durationSec: 30,
    reason: "user_hangup",
    transcript: [{ role: "user", text: `${marker} caller words`, createdAt: null }],
    endedAt: new Date(),
  });
  await recordCallInsights(
    sql,
    { connectionId: null, callControlId: SHARED.callControlId, callSessionId: null },
    { insightGroupId: "group", results: [{ insightId: "i", result: `${marker} insight` }], receivedAt: "x" },
  );
  await sql`update calls set summary = ${`${marker} call summary`} where id = ${id}`;
  return { callId: id };
}

async function erasure(sql: Sql, marker: string) {
  await eraseSubject(
    sql,
    { identityIds: [`user:${marker}-gone`], contactId: null },
    { actor: "test", requestId: `${marker}-erasure`, subjectRef: `${marker}-ref`, deletedUpstream: true },
  );
}

/** A tenant with rows in every tenant-owned table. */
export async function seedTenant(sql: Sql, stack: ModelStack, slug: string): Promise<SeededTenant> {
  const tenant = await createTenant(sql, { slug, name: `Tenant ${slug}` });
  const marker = slug;
  const contactId = `contact-${marker}`;
  return inTenant(tenant.id, async () => {
    const turns = await engineTurns(stack, marker, contactId);
    const docs = await knowledge(sql, marker);
    const piped = await pipeline(sql, marker, contactId);
    const kept = await state(sql, marker, turns.sessionId);
    const admin = await adminRows(sql, marker);
    const secrets = await secret(sql, tenant.id);
    const texts = await sms(sql, marker);
    const escalated = await seedEscalations(sql, marker);
    await seedEscalationReplies(sql, escalated.escalationId, marker);
    const calls = await call(sql, marker, texts.smsContactId);
    await erasure(sql, marker);
    const webhooks = await seedWebhooks(sql, marker);
    const people = await seedContacts(sql, marker, turns.sessionId);
    const email = await seedEmail(sql, marker);
    return {
      id: tenant.id,
      slug,
      widgetKey: tenant.widgetKey,
      marker,
      contactId,
      ...turns,
      ...docs,
      ...piped,
      ...kept,
      ...admin,
      ...secrets,
      ...texts,
      ...webhooks,
      ...people,
      ...escalated,
      ...calls,
      ...email,
    };
  });
}

/** Every table with a `tenant_id` column, from the catalog (so a new tenant table is covered unasked). */
export async function tenantTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
    where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')
    order by c.relname`;
  return rows.map((r) => r.name);
}

/**
 * Everything the current scope sees in `tables` (and `tenants`), as one JSON document: compared before and
 * after, it shows whether anything of the tenant changed. Run inside the tenant's scope.
 */
export async function snapshot(sql: Sql, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const parts = ["tenants", ...tables].map(
    (t) => sql`${t}::text, (select coalesce(json_agg(x order by x::text), '[]') from ${sql(t)} x)`,
  );
  const joined = parts.reduce((all, next) => sql`${all}, ${next}`);
  const [row] = await sql<{ all: Record<string, unknown[]> }[]>`select json_build_object(${joined}) as all`;
  return row?.all ?? {};
}
