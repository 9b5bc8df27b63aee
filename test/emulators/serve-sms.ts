/**
 * The SMS part of `npm run emulators`: Twilio's and Telnyx's Messages APIs with fixed local credentials
 * (so numbers connected once keep working across restarts), a "phone" that texts the service exactly as
 * each provider posts a webhook (signed), and a log of every text the service sends, each followed by the
 * provider's delivery report. A test fixture, never part of the service.
 */
import { createServer } from "node:http";
import { startTelnyxEmulator, telnyxInboundEvent } from "./telnyx";
import { playCall } from "./telnyx-voice";
import { signTwilioRequest, startTwilioEmulator, twilioForm, twilioInboundParams } from "./twilio";

/** Local stand-ins, not secrets: the emulators accept only these. */
const TWILIO = { accountSid: "AC0000000000000000000000000000beef", authToken: "local-twilio-auth-token" };
const TELNYX = {
  apiKey: "KEY_local_telnyx_api_key",
  // Fixed so the public key a tenant pasted keeps verifying after a restart.
  privateKeyPem:
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBB8W19kwaH4P6OQD/Hb2Pq/MHwxIXZd/qZifydkHb6D\n-----END PRIVATE KEY-----\n",
};

/** The admin key the instructions below start the service with. */
const LOCAL_ADMIN_KEY = "local-admin-key-0123456789abcdef";

interface Text {
  via: "twilio" | "telnyx";
  from: string;
  to: string;
  body: string;
}

export async function startSmsEmulators(opts: { service?: string; phonePort?: number } = {}) {
  const service = (opts.service ?? process.env.SWITCHBOARD_URL ?? "http://localhost:8080").replace(
    /\/+$/,
    "",
  );
  const twilio = await startTwilioEmulator(TWILIO);
  const telnyx = await startTelnyxEmulator(TELNYX);

  /** Texts the service as the provider would: the same fields, headers and signature. */
  async function text(t: Text): Promise<{ status: number; body: string }> {
    if (t.via === "twilio") {
      const url = `${service}/webhooks/twilio/sms`;
      const params = twilioInboundParams({ ...t, accountSid: TWILIO.accountSid });
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": signTwilioRequest(TWILIO.authToken, url, params),
        },
        body: twilioForm(params),
      });
      return { status: res.status, body: await res.text() };
    }
    const sent = await telnyx.deliver(
      `${service}/webhooks/telnyx/sms`,
      telnyxInboundEvent({ ...t, text: t.body }),
    );
    return { status: sent.status, body: sent.body };
  }

  /**
   * The assistant URLs for the number's connection: the events URL the admin API shows (it names the
   * connection, which the insights need: they name no number), read with the local admin key and reached
   * at the service; without it, the plain path (the end of the call still routes by its number). The
   * dynamic-variables URL is the plain path: its token is shown only when it is issued, and the phone signs
   * the request instead.
   */
  async function voiceUrlsOf(number: string, base: string) {
    const plain = {
      dynamicVariablesUrl: `${base}/webhooks/telnyx/voice/dynamic-variables`,
      eventsUrl: `${base}/webhooks/telnyx/voice/events`,
    };
    const auth = { authorization: `Bearer ${process.env.ADMIN_API_KEY ?? LOCAL_ADMIN_KEY}` };
    const local = (url: string) => `${base}${new URL(url).pathname}${new URL(url).search}`;
    try {
      const list = (await (
        await fetch(`${base}/api/v1/admin/tenants?limit=500`, { headers: auth })
      ).json()) as {
        tenants?: { id: string }[];
      };
      for (const tenant of list.tenants ?? []) {
        const res = await fetch(`${base}/api/v1/admin/tenants/${tenant.id}/channels`, { headers: auth });
        const { channels = [] } = (await res.json()) as {
          channels?: {
            kind: string;
            publicId: string;
            voice?: { eventsUrl: string };
          }[];
        };
        const voice = channels.find((ch) => ch.kind === "telnyx" && ch.publicId === number)?.voice;
        if (voice) return { ...plain, eventsUrl: local(voice.eventsUrl) };
      }
    } catch {
      // The admin API is not reachable with the local key: the plain paths.
    }
    return plain;
  }

  /**
   * A call to a tenant's Telnyx number, played as Telnyx's AI assistant would report it: the signed
   * dynamic-variables request, the conversation (the caller's sentences, each answered by the assistant)
   * in the conversations API, then the signed end-of-call and insights events.
   */
  async function call(c: { from: string; to: string; say: string[] }, base = service) {
    const lines = c.say.flatMap((text, i) => [
      { role: "user" as const, text },
      { role: "assistant" as const, text: i === c.say.length - 1 ? "Thank you, goodbye." : "I see. Go on." },
    ]);
    const played = await playCall(telnyx, await voiceUrlsOf(c.to, base), {
      from: c.from,
      to: c.to,
      lines: [{ role: "assistant", text: "Hello, how can I help?" }, ...lines],
      durationSec: 20 * c.say.length,
      insights: [{ insightId: "summary", result: c.say.join(" ") }],
      // The emulator holds the account's key, so it signs the request instead of naming the URL token.
      signInitialization: true,
    });
    return { variables: JSON.parse(played.variables.body || "{}") as unknown, events: played.events };
  }

  const phone = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => {
      raw += chunk;
    });
    req.on("end", () => {
      if (req.url === "/call") {
        const c = JSON.parse(raw || "{}") as { from?: string; to?: string; say?: unknown };
        const say = Array.isArray(c.say) ? c.say.filter((s): s is string => typeof s === "string") : [];
        if (!c.from || !c.to || say.length === 0) {
          res.writeHead(400, { "content-type": "text/plain" }).end('POST /call {"from","to","say":["…"]}\n');
          return;
        }
        console.log(`telnyx voice: ${c.from} calls ${c.to}: ${say.join(" / ")}`);
        call({ from: c.from, to: c.to, say }).then(
          (r) => res.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(r)}\n`),
          (error: unknown) => res.writeHead(502).end(`${String(error)}\n`),
        );
        return;
      }
      const t = JSON.parse(raw || "{}") as Partial<Text>;
      if (req.url !== "/text" || !t.from || !t.to || !t.body || (t.via !== "twilio" && t.via !== "telnyx")) {
        res
          .writeHead(400, { "content-type": "text/plain" })
          .end('POST /text {"via":"twilio|telnyx","from","to","body"}\n');
        return;
      }
      console.log(`${t.via}: ${t.from} → ${t.to}: ${t.body}`);
      text(t as Text).then(
        (r) => res.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(r)}\n`),
        (error: unknown) => res.writeHead(502).end(`${String(error)}\n`),
      );
    });
  });
  const phonePort = opts.phonePort ?? Number(process.env.PHONE_PORT ?? 4010);
  await new Promise<void>((resolve) => phone.listen(phonePort, "127.0.0.1", resolve));

  // What the bot texts back, then the carrier's delivery report to the service.
  let seenTwilio = 0;
  let seenTelnyx = 0;
  const timer = setInterval(() => {
    for (const m of twilio.sent.slice(seenTwilio)) {
      console.log(`twilio: ${m.from} → ${m.to}: ${m.body}`);
      if (m.statusCallback) void twilio.statusCallback(m.sid, "delivered").catch(() => {});
    }
    seenTwilio = twilio.sent.length;
    for (const m of telnyx.sent.slice(seenTelnyx)) {
      console.log(`telnyx: ${m.from} → ${m.to}: ${m.text}`);
      const event = telnyx.statusEvent(m.id, { eventType: "message.finalized", status: "delivered" });
      void telnyx.deliver(`${service}/webhooks/telnyx/sms`, event).catch(() => {});
    }
    seenTelnyx = telnyx.sent.length;
  }, 250);

  const instructions = `
Twilio emulator on ${twilio.url}, Telnyx emulator on ${telnyx.apiBase}, a phone on http://127.0.0.1:${phonePort}.

Start Switchboard against them (another terminal; PUBLIC_URL is the URL Twilio signs):

  ADMIN_API_KEY=${LOCAL_ADMIN_KEY} PUBLIC_URL=${service} \\
  TWILIO_API_BASE=${twilio.url} TELNYX_API_BASE=${telnyx.apiBase} npm start

Connect a number to a tenant (README "Texts (SMS)"; docs/sms.md):

  { "kind": "twilio", "phoneNumber": "+15550100001", "accountSid": "${TWILIO.accountSid}", "authToken": "${TWILIO.authToken}" }
  { "kind": "telnyx", "phoneNumber": "+15550100002", "apiKey": "${TELNYX.apiKey}", "publicKey": "${telnyx.publicKey}" }

Then text it from the phone (signed exactly as the provider signs):

  curl -s localhost:${phonePort}/text -d '{"via":"twilio","from":"+15557654321","to":"+15550100001","body":"When are you open?"}'

Or call the Telnyx number (docs/voice.md): the emulator plays Telnyx's AI assistant, signed with the account's key:

  curl -s localhost:${phonePort}/call -d '{"from":"+15557654321","to":"+15550100002","say":["Hi, this is Jane Doe, jane@example.com.","I want to book a boiler service next week."]}'

This terminal prints what the bot texts back.
`;
  return {
    instructions,
    twilio,
    telnyx,
    text,
    call,
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => phone.close(() => resolve()));
      await Promise.all([twilio.close(), telnyx.close()]);
    },
  };
}
