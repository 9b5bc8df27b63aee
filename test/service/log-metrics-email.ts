import { expect } from "vitest";
import { LOG_EVENT, LOG_FIELD } from "../../service/src/observability/log-events";
import type { GmailEmulator, GmailNotification, MailFields } from "../emulators/gmail";
import type { Body } from "./admin-helpers";
import { eventually, type TestService } from "./helpers";

/**
 * Issue 15's part of the log-metrics test: two tenants' Gmail mailboxes connected through the admin API
 * and the emulator's consent screen, and the mail, pushes and disconnections that make the service write
 * every e-mail event a metric counts (docs/email.md describes the flows).
 */

const PUSH_ACCOUNT = "gmail-push@log-metrics.iam.gserviceaccount.com";
const PUSH_PATH = "/webhooks/email/gmail-push";
export const MAILBOX = { send: "support@mail.log-metrics.test", draft: "drafts@mail.log-metrics.test" };

/** The service's variables that point its Google clients and push verifier at the emulator. */
export function emailEnv(emu: GmailEmulator, publicUrl: string): Record<string, string> {
  return {
    GOOGLE_OAUTH_CLIENT_ID: emu.client.clientId,
    GOOGLE_OAUTH_CLIENT_SECRET: emu.client.clientSecret,
    GOOGLE_OAUTH_BASE: emu.url,
    GMAIL_API_BASE: emu.url,
    GMAIL_PUBSUB_TOPIC: "projects/log-metrics/topics/gmail-push",
    GMAIL_PUSH_SERVICE_ACCOUNT: PUSH_ACCOUNT,
    GMAIL_PUSH_AUDIENCE: `${publicUrl}${PUSH_PATH}`,
    GMAIL_PUSH_ISSUER: emu.issuer,
    GMAIL_PUSH_JWKS_URL: emu.jwksUrl,
  };
}

/** The callback Google redirects the admin's browser to (the default: PUBLIC_URL + the callback path). */
export const oauthRedirect = (publicUrl: string) => `${publicUrl}/api/v1/email/oauth/callback`;

type Admin = (method: string, path: string, body?: unknown) => Promise<Body>;

export interface EmailScene {
  svc: TestService;
  emu: GmailEmulator;
  publicUrl: string;
  adminKey: string;
  admin: Admin;
}

/** Connects `address` for the tenant as its admin would: the connect redirect, Google's consent, the callback. */
async function connect(scene: EmailScene, tenantId: string, address: string): Promise<string> {
  scene.emu.consentAs(address);
  const started = await fetch(`${scene.svc.url}/api/v1/admin/tenants/${tenantId}/email/connect`, {
    headers: { authorization: `Bearer ${scene.adminKey}` },
    redirect: "manual",
  });
  expect(started.status).toBe(302);
  const google = await fetch(started.headers.get("location") ?? "", { redirect: "manual" });
  const back = (google.headers.get("location") ?? "").replace(scene.publicUrl, scene.svc.url);
  const done = await fetch(back, { headers: { accept: "application/json" } });
  expect(done.status).toBe(200);
  const { mailboxes } = await scene.admin("GET", `/tenants/${tenantId}/email/mailboxes`);
  return (mailboxes as Body[]).find((m) => m.address === address)?.connectionId as string;
}

/** Two e-mail tenants: one answering (send), one leaving drafts for an agent. */
export async function emailSetup(scene: EmailScene) {
  const sender = await scene.admin("POST", "/tenants", { slug: "log-metrics-mail", name: "Mail" });
  const drafter = await scene.admin("POST", "/tenants", { slug: "log-metrics-drafts", name: "Drafts" });
  await scene.admin("PATCH", `/tenants/${drafter.id}/settings`, { email: { mode: "draft" } });
  await connect(scene, sender.id as string, MAILBOX.send);
  const draftConnection = await connect(scene, drafter.id as string, MAILBOX.draft);
  return { drafter: drafter.id as string, draftConnection };
}

/** Pub/Sub's push of a notification, signed as Google does (or `forged`, or without its token). */
async function push(scene: EmailScene, data: GmailNotification, token: "signed" | "forged" | "none") {
  const signed = await scene.emu.pushRequest({
    audience: `${scene.publicUrl}${PUSH_PATH}`,
    serviceAccountEmail: PUSH_ACCOUNT,
    data,
    forge: token === "forged",
  });
  const { authorization, ...rest } = signed.headers;
  return scene.svc.post(PUSH_PATH, signed.body, token === "none" ? rest : signed.headers);
}

/** Mail arrives in a mailbox and Gmail pushes its notification. */
async function mail(scene: EmailScene, address: string, ...messages: Omit<MailFields, "to">[]) {
  let last: GmailNotification | undefined;
  for (const m of messages) last = await scene.emu.deliver(address, { ...m, to: address });
  const res = await push(scene, last as GmailNotification, "signed");
  expect(res.status).toBe(200);
  return last as GmailNotification;
}

const lines = (svc: TestService, event: string, where: (l: Record<string, unknown>) => boolean) =>
  eventually(
    () => svc.logs.events(event).filter(where),
    (found) => found.length > 0,
    15_000,
  );
const is = (field: string, value: unknown) => (l: Record<string, unknown>) => l[field] === value;

/**
 * A newsletter (skipped: bulk) and a question (queued) to the answering tenant, whose first send Gmail
 * answers 503 (an upstream error; retried, then sent); a question to the drafting tenant (drafted); a push
 * with a forged token and one without (refused); an admin disconnecting the drafting mailbox; the
 * answering mailbox's grant revoked at Google, found by its next sync (disconnected).
 */
export async function emailTraffic(scene: EmailScene, setup: { drafter: string; draftConnection: string }) {
  const { svc, emu } = scene;
  emu.failNext({ code: 503, status: "UNAVAILABLE", pathIncludes: "/messages/send" });
  await mail(
    scene,
    MAILBOX.send,
    {
      from: "News <news@letters.example>",
      subject: "This week",
      text: "Our news",
      headers: { "List-Unsubscribe": "<mailto:unsubscribe@letters.example>", Precedence: "bulk" },
    },
    {
      from: "Jane <jane@customer.example>",
      subject: "Opening hours",
      text: "When are you open on Saturdays?",
    },
  );
  await lines(svc, LOG_EVENT.emailReplyWritten, is(LOG_FIELD.outcome, "sent"));
  const question = await mail(scene, MAILBOX.draft, {
    from: "Carl <carl@customer.example>",
    subject: "Refunds",
    text: "How do refunds work?",
  });
  await lines(svc, LOG_EVENT.emailReplyWritten, is(LOG_FIELD.outcome, "drafted"));
  for (const token of ["forged", "none"] as const)
    expect((await push(scene, question, token)).status).toBe(401);
  await scene.admin("DELETE", `/tenants/${setup.drafter}/email/mailboxes/${setup.draftConnection}`);
  emu.revokeGrants(MAILBOX.send);
  await mail(scene, MAILBOX.send, {
    from: "jane@customer.example",
    subject: "Re: Opening hours",
    text: "Thanks",
  });
  await lines(svc, LOG_EVENT.emailMailboxDisconnected, is(LOG_FIELD.reason, "refresh_token_revoked"));
}
