import type { Database } from "../../service/src/db/client";
import {
  signTwilioRequest,
  startTwilioEmulator,
  type TwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../emulators/twilio";
import { type AdminService, adminSuite, asKey, type Body, createTenant, json } from "./admin-helpers";
import { eventually, raw } from "./helpers";

/**
 * A tenant texted on its Twilio number (the official client against the Twilio emulator), for the
 * escalation tests: a customer asks for a person, the service opens the escalation, a person answers.
 */

// http, so the console cookie is the plain `sb_console` a test browser on http://127.0.0.1 sends back.
const PUBLIC_URL = "http://esc.switchboard.test";
export const ACME = {
  number: "+15550100071",
  sid: "AC0000000000000000000000000000e5c1",
  token: "acme-escalation-twilio-token",
};

export interface SmsWorld {
  db: Database;
  svc: AdminService;
  twilio: TwilioEmulator;
  tenant: Body;
  /** A text to the tenant's number from `from`, signed as Twilio signs it; resolves once recorded. */
  text(from: string, body: string): Promise<void>;
  /** The escalation the customer's conversation opened, once it exists. */
  escalationOf(phone: string): Promise<{ id: string; status: string }>;
  stop(): Promise<void>;
}

export async function startSmsWorld(slug: string): Promise<SmsWorld> {
  let svc: AdminService | undefined;
  const twilio = await startTwilioEmulator({
    accountSid: ACME.sid,
    authToken: ACME.token,
    reach: (url) => url.replace(PUBLIC_URL, svc?.url ?? PUBLIC_URL),
  });
  const suite = await adminSuite({ PUBLIC_URL, TWILIO_API_BASE: twilio.url, POLLING_INTERVAL: "0" });
  svc = suite.svc;
  const tenant = await createTenant(suite.svc, slug, "Acme");
  const res = await suite.svc.call(
    "POST",
    `/api/v1/admin/tenants/${tenant.id}/channels`,
    { kind: "twilio", phoneNumber: ACME.number, accountSid: ACME.sid, authToken: ACME.token },
    asKey,
  );
  if (res.status !== 201) throw new Error(`connect: ${res.status} ${JSON.stringify(await json(res))}`);
  const db = suite.db;
  return {
    db,
    svc: suite.svc,
    twilio,
    tenant,
    async text(from, body) {
      const params = twilioInboundParams({ from, to: ACME.number, body, accountSid: ACME.sid });
      const signature = signTwilioRequest(ACME.token, `${PUBLIC_URL}/webhooks/twilio/sms`, params);
      const sent = await fetch(`${suite.svc.url}/webhooks/twilio/sms`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
        body: twilioForm(params),
      });
      if (sent.status !== 200) throw new Error(`twilio webhook: ${sent.status}`);
    },
    async escalationOf(phone) {
      const [row] = await eventually(
        () => raw(db)<{ id: string; status: string }[]>`
          select id::text, status from escalations where channel = 'sms' and conversation_id = ${phone}
          order by created_at desc limit 1`,
        (rows) => rows.length === 1,
      );
      return row as { id: string; status: string };
    },
    async stop() {
      await suite.stop();
      await twilio.close();
    },
  };
}
