import { expect } from "vitest";
import { googleOAuth } from "../../service/src/adapters/gmail";
import type { GoogleOAuth } from "../../service/src/ports/gmail";
import { type GmailEmulator, startGmailEmulator } from "../emulators/gmail";
import { type SmtpSink, startSmtpSink } from "../emulators/smtp-sink";
import { type AdminService, adminSuite, asUser, type Body, createTenant, json } from "./admin-helpers";
import { raw } from "./helpers";

/**
 * Connecting tenants' Gmail mailboxes through the real service (its admin API and OAuth callback) against
 * the Gmail + Google OAuth emulator, with an SMTP sink for the team's notifications.
 */

/** Google sends the browser here; the tests follow that redirect themselves, so no server listens on it. */
export const REDIRECT = "http://127.0.0.1:9/api/v1/email/oauth/callback";
export const TOPIC = "projects/switchboard-test/topics/gmail-push";
export const INTERNAL = "internal-shared-secret-0123456789";
export const PUBLIC_URL = "https://switchboard.example.com";

export interface EmailWorld {
  svc: AdminService;
  emu: GmailEmulator;
  smtp: SmtpSink;
  /** The adapter as the tests use it: is a refresh token still good at "Google"? */
  google: GoogleOAuth;
  stop(): Promise<void>;
}

export async function emailWorld(env: Record<string, string> = {}): Promise<EmailWorld> {
  const emu = await startGmailEmulator({ redirectUris: [REDIRECT] });
  const smtp = await startSmtpSink();
  const { svc, stop } = await adminSuite({
    GOOGLE_OAUTH_CLIENT_ID: emu.client.clientId,
    GOOGLE_OAUTH_CLIENT_SECRET: emu.client.clientSecret,
    GOOGLE_OAUTH_BASE: emu.url,
    GMAIL_API_BASE: emu.url,
    EMAIL_OAUTH_REDIRECT_URL: REDIRECT,
    GMAIL_PUBSUB_TOPIC: TOPIC,
    SMTP_URL: smtp.url,
    NOTIFY_FROM: "Switchboard <notify@switchboard.example.com>",
    PUBLIC_URL,
    INTERNAL_SHARED_SECRET: INTERNAL,
    POLLING_INTERVAL: "0",
    ...env,
  });
  const google = googleOAuth({
    ...emu.client,
    redirectUri: REDIRECT,
    oauthBase: emu.url,
    gmailApiBase: emu.url,
  });
  return {
    svc,
    emu,
    smtp,
    google,
    async stop() {
      await stop();
      await emu.close();
      await smtp.close();
    },
  };
}

/** A tenant and the headers of its tenant admin. */
export async function tenantWithAdmin(svc: AdminService, slug: string) {
  const tenant = await createTenant(svc, slug, `${slug} Inc`);
  const admin = await asUser({ sub: `${slug}-admin`, role: "tenant_admin", tenant: tenant.id });
  return { tenant, admin };
}

export const connectPath = (tenant: Body) => `/api/v1/admin/tenants/${tenant.id}/email/connect`;
export const mailboxesPath = (tenant: Body) => `/api/v1/admin/tenants/${tenant.id}/email/mailboxes`;

/**
 * Starts connecting (the admin's GET …/email/connect) and consents at the emulator as `address` (or
 * denies with undefined), as a browser following Google's redirects: the callback URL Google sends back.
 */
export async function consent(
  w: EmailWorld,
  tenant: Body,
  headers: Record<string, string>,
  address?: string,
) {
  w.emu.consentAs(address);
  const started = await fetch(`${w.svc.url}${connectPath(tenant)}`, { headers, redirect: "manual" });
  expect(started.status).toBe(302);
  const location = started.headers.get("location") ?? "";
  expect((await json(started)).authorizationUrl).toBe(location);
  const google = await fetch(location, { redirect: "manual" });
  expect(google.status).toBe(302);
  return new URL(google.headers.get("location") ?? "");
}

/** The service's callback with Google's query (JSON unless `html`). */
export function callback(w: EmailWorld, back: URL, html = false) {
  const headers: Record<string, string> = html ? { accept: "text/html" } : { accept: "application/json" };
  return fetch(`${w.svc.url}/api/v1/email/oauth/callback${back.search}`, { headers });
}

/** Connects `address` for the tenant end to end; the callback's answer. */
export async function connectMailbox(
  w: EmailWorld,
  tenant: Body,
  headers: Record<string, string>,
  address: string,
) {
  const res = await callback(w, await consent(w, tenant, headers, address));
  expect(res.status).toBe(200);
  return json(res);
}

/** The refresh token the emulator issued last for `address`. */
export function issuedToken(w: EmailWorld, address: string): string {
  const grant = w.emu.oauth.grants.filter((g) => g.email === address && g.refreshToken).at(-1);
  return grant?.refreshToken ?? "";
}

export interface MailboxDbRow {
  connectionId: string;
  tenantId: string;
  address: string;
  status: string;
  disconnectedReason: string | null;
  historyId: string | null;
  watchExpiresAt: Date | null;
  watchRenewedAt: Date | null;
  secretRefs: Record<string, string>;
}

/** The mailbox row of an address with its connection's secret refs, whatever its tenant. */
export async function mailboxRow(w: EmailWorld, address: string): Promise<MailboxDbRow | undefined> {
  const [row] = await raw(w.svc.db)<MailboxDbRow[]>`
    select m.connection_id, m.tenant_id, m.address, m.status, m.disconnected_reason,
      m.history_id::text as history_id, m.watch_expires_at, m.watch_renewed_at, c.secret_refs
    from email_mailboxes m join channel_connections c on c.id = m.connection_id
    where m.address = ${address}`;
  return row;
}

/** POST /internal/email/renew-watches with the local internal token. */
export async function renewWatches(w: EmailWorld): Promise<Body> {
  const res = await w.svc.post("/internal/email/renew-watches", undefined, { "x-internal-token": INTERNAL });
  expect(res.status).toBe(200);
  return json(res);
}
