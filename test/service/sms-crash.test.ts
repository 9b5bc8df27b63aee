import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { telnyxSmsClient } from "../../service/src/adapters/telnyx";
import { twilioSmsClient } from "../../service/src/adapters/twilio";
import type { Database, Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import type { SmsProviderClient } from "../../service/src/ports/sms";
import { startTelnyxEmulator, type TelnyxEmulator } from "../emulators/telnyx";
import { startTwilioEmulator, type TwilioEmulator } from "../emulators/twilio";
import { testDatabase } from "./helpers";
import { createTenant, smsWorld } from "./sms-fakes";

/**
 * A crash between a send and its record, through the providers' official clients against the emulators:
 * the process dies after Twilio or Telnyx accepted the text and before the record said so. The next
 * attempt asks the provider what it sent (Twilio's message list, Telnyx's message detail records) and
 * sends nothing again.
 */

let db: Database;
let inspect: Sql;
let drop: () => Promise<void>;
let twilio: TwilioEmulator;
let telnyx: TelnyxEmulator;
let tenant: string;

beforeAll(async () => {
  const t = await testDatabase();
  ({ db, inspect, drop } = t);
  await migrate(db.sql);
  tenant = await createTenant(inspect, "sms-crash");
  twilio = await startTwilioEmulator();
  telnyx = await startTelnyxEmulator();
});
afterAll(async () => {
  await drop?.();
  await twilio?.close();
  await telnyx?.close();
});

/** The real client, in a process that dies once the provider has taken the text (the call never returns). */
function dyingAfterSend(client: SmsProviderClient): SmsProviderClient & { dying: boolean } {
  const wrapped = {
    provider: client.provider,
    dying: true,
    sentSince: client.sentSince?.bind(client),
    async send(request: Parameters<SmsProviderClient["send"]>[0]) {
      const sent = await client.send(request);
      if (wrapped.dying) return new Promise<never>(() => {});
      return sent;
    },
  };
  return wrapped;
}

const providers = {
  twilio: () => ({
    client: twilioSmsClient({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      apiBase: twilio.url,
    }),
    sent: (to: string) => twilio.sent.filter((m) => m.to === to).length,
  }),
  telnyx: () => ({
    client: telnyxSmsClient({ apiKey: telnyx.apiKey, apiBase: telnyx.apiBase }),
    sent: (to: string) => telnyx.sent.filter((m) => m.to === to).length,
  }),
};

describe.each(Object.keys(providers) as (keyof typeof providers)[])("%s: a crash after the send", (name) => {
  test("the next attempt finds the text at the provider and sends nothing again", async () => {
    const { client, sent } = providers[name]();
    const dying = dyingAfterSend(client);
    const number = name === "twilio" ? "+12125550171" : "+12125550172";
    const phone = name === "twilio" ? "+14155550171" : "+14155550172";
    const first = smsWorld(db, tenant, { number, client: dying, leaseSeconds: 1 });
    await first.text(phone, "Is it in stock?");
    void first.work(); // dies inside the provider call, after the provider took the text
    await new Promise((r) => setTimeout(r, 1300));
    dying.dying = false;
    const second = first.restart();
    const [row] = await inspect<{ id: string }[]>`select id from outbox where conversation_id = ${phone}`;
    expect(await second.pipeline.process(row?.id as string, tenant)).toBe("skipped");
    expect(sent(phone)).toBe(1);
    expect(second.engine.turns).toEqual([]);
    const [record] = await inspect<{ providerMessageId: string | null }[]>`
      select provider_message_id from sms_messages where customer_phone = ${phone} and direction = 'outbound'`;
    expect(record?.providerMessageId).toMatch(/\S/);
    const [outbox] = await inspect<
      { outcome: string }[]
    >`select outcome from outbox where id = ${row?.id as string}`;
    expect(outbox?.outcome).toBe("already_answered");
  });
});
