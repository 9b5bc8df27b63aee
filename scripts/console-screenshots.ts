/**
 * `npm run screenshots`: the README's pictures of the console, taken from the real service on an in-memory
 * PGlite with a demo day's data, in Debian's Chromium (playwright-core). Customer traffic goes through the
 * service's own doors (the chat API, a Twilio-signed text through the Twilio emulator); only what needs a past
 * (a month of usage, a call and an e-mail thread of the same customer) is written into the tables directly.
 * Writes docs/images/console-{escalations,conversation,knowledge,usage}.png.
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { openDatabase, type Sql } from "../service/src/db/client";
import { DEFAULT_TENANT_ID } from "../service/src/db/tenant-scope";
import { startService } from "../service/src/main";
import {
  signTwilioRequest,
  startTwilioEmulator,
  twilioForm,
  twilioInboundParams,
} from "../test/emulators/twilio";

const OUT = join(import.meta.dirname, "../docs/images");
const ADMIN_API_KEY = randomBytes(24).toString("hex");
const TWILIO = { accountSid: "AC0000000000000000000000000000beef", authToken: "demo-twilio-auth-token" };
const SHOP = "+15550100001";
const JANE = "+15557654321";
const PORT = 18480;

const twilio = await startTwilioEmulator(TWILIO);
const db = await openDatabase({ poolMax: 5 });
const service = await startService(
  {
    NODE_ENV: "development",
    // Twilio signs the URL it calls: the service checks signatures against its public URL, so it has a fixed one.
    PORT: String(PORT),
    HOST: "127.0.0.1",
    PUBLIC_URL: `http://127.0.0.1:${PORT}`,
    LOG_LEVEL: "warn",
    MODEL_PROVIDER: "local",
    KNOWLEDGE_DIR: "service/knowledge",
    ADMIN_API_KEY,
    TWILIO_API_BASE: twilio.url,
    SESSION_SIGNING_KEY: randomBytes(24).toString("hex"),
    SECRET_STORE_KEY: randomBytes(32).toString("base64"),
  },
  { database: db },
);
const base = service.url;
const tenantPath = (page: string) => `${base}/console/t/${DEFAULT_TENANT_ID}/${page}`;

async function api(method: string, path: string, body?: unknown, type = "application/json") {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": type },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
}

const admin = `/api/v1/admin/tenants/${DEFAULT_TENANT_ID}`;

async function seedKnowledge() {
  await api("PATCH", admin, { name: "Northwind Outfitters" });
  await api("PATCH", `${admin}/settings`, { tenantBudget: { dailyTokens: 5_000, monthlyTokens: 150_000 } });
  const docs: Record<string, string> = {
    returns:
      "# Returns\n\nWe take returns within **60 days** of delivery, unworn and with the tags on.\n\n" +
      "1. Start a return at northwind.example/returns with your order number.\n" +
      "2. Print the prepaid label and drop the parcel at any post office.\n\n" +
      "Refunds reach your card within 5 business days of the parcel arriving at our warehouse.",
    shipping:
      "# Shipping\n\nStandard shipping takes 3–5 business days and is free over $50. Express (1–2 days) is $12.",
    "opening-hours": "# Opening hours\n\nThe support team answers Monday to Friday, 9:00–17:00 Eastern.",
  };
  for (const [slug, text] of Object.entries(docs)) {
    await api("PUT", `${admin}/knowledge/${slug}`, text, "text/markdown");
  }
}

async function chat(message: string, sessionId?: string, token?: string) {
  const res = await fetch(`${base}/api/v1/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ message, ...(sessionId ? { sessionId } : {}) }),
  });
  return (await res.json()) as { sessionId: string; sessionToken?: string };
}

async function seedWebChats() {
  const first = await chat("How long do I have to return a jacket?");
  await chat("And when will I get my money back?", first.sessionId, first.sessionToken);
  const second = await chat("Do you ship express?");
  await chat("I'd like to talk to a person about a damaged parcel", second.sessionId, second.sessionToken);
  await chat("What are your opening hours?");
}

async function text(body: string) {
  const url = `${base}/webhooks/twilio/sms`;
  const params = twilioInboundParams({ accountSid: TWILIO.accountSid, from: JANE, to: SHOP, body });
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signTwilioRequest(TWILIO.authToken, url, params),
    },
    body: twilioForm(params),
  });
  if (!res.ok) throw new Error(`text: ${res.status}`);
}

async function seedTexts() {
  await api("POST", `${admin}/channels`, { kind: "twilio", phoneNumber: SHOP, ...TWILIO });
  await text("Hi, it's Jane Doe (jane@example.com). My order 1042 hasn't arrived yet");
  await waitFor(() => twilio.sent.length >= 1);
  await text("Can I talk to a person please?");
  await waitFor(() => twilio.sent.length >= 2);
}

async function waitFor(ok: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out waiting for the service");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Jane's call and e-mail of last week, and a month of usage: history the demo cannot wait for. */
async function seedHistory(sql: Sql) {
  const [jane] = await sql<{ id: string }[]>`
    select id from contacts where tenant_id = ${DEFAULT_TENANT_ID} and phone = ${JANE}`;
  if (!jane) throw new Error("the text did not make Jane a contact");
  await sql`update contacts set name = 'Jane Doe', email = 'jane@example.com' where id = ${jane.id}`;
  const transcript = [
    { role: "user", text: "Hi, I ordered a rain jacket last week, order 1042.", createdAt: daysAgo(6) },
    {
      role: "assistant",
      text: "Thanks Jane. Order 1042 shipped on Monday by standard post.",
      createdAt: daysAgo(6),
    },
  ];
  await sql`
    insert into calls (tenant_id, call_control_id, from_number, to_number, contact_id, duration_sec, reason,
      transcript, summary, ended_at, created_at)
    values (${DEFAULT_TENANT_ID}, 'demo-call', ${JANE}, ${SHOP}, ${jane.id}, 94, 'user_hangup',
      ${sql.json(transcript)}, 'Jane asked where order 1042 is; told it shipped Monday.', ${daysAgo(6)}, ${daysAgo(6)})`;
  const session = crypto.randomUUID();
  await sql`
    insert into sessions (id, tenant_id, identity_id, channel, contact_id, turns, created_at, updated_at)
    values (${session}, ${DEFAULT_TENANT_ID}, 'email:jane@example.com', 'email', ${jane.id}, 1, ${daysAgo(3)}, ${daysAgo(3)})`;
  await sql`
    insert into messages (tenant_id, session_id, role, content, tokens, model, created_at) values
      (${DEFAULT_TENANT_ID}, ${session}, 'user', 'Subject: Order 1042\n\nStill no parcel. Can you check the tracking?', 18, null, ${daysAgo(3)}),
      (${DEFAULT_TENANT_ID}, ${session}, 'assistant', 'Hi Jane, standard shipping takes 3–5 business days; the tracking shows it at the local depot.', 30, 'gemini-2.5-flash', ${daysAgo(3)})`;
  await seedUsage(sql);
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

async function seedUsage(sql: Sql) {
  const rows = [];
  for (let day = 29; day >= 0; day--) {
    const volume = 40 + Math.round(25 * Math.sin(day / 3) + (29 - day) * 1.5);
    for (const [channel, share] of [
      ["web", 0.5],
      ["sms", 0.3],
      ["email", 0.15],
      ["voice", 0.05],
    ] as const) {
      for (const [model, cost, outcome] of [
        ["gemini-2.5-flash", 0.0004, "ok"],
        ["gemini-2.5-pro", 0.004, "ok"],
        ["gemini-2.5-flash", 0.0001, "fallback"],
      ] as const) {
        const n = Math.max(
          1,
          Math.round(volume * share * (model.endsWith("pro") ? 0.15 : outcome === "ok" ? 0.8 : 0.05)),
        );
        rows.push({
          tenant_id: DEFAULT_TENANT_ID,
          identity_id: `demo:${channel}`,
          channel,
          purpose: "chat",
          provider: "gemini",
          model,
          input_tokens: 900 * n,
          output_tokens: 160 * n,
          cached_tokens: 400 * n,
          thoughts_tokens: 0,
          cost_usd: (cost * n).toFixed(6),
          latency_ms: 900,
          outcome,
          created_at: daysAgo(day),
        });
      }
    }
  }
  await sql`insert into usage_ledger ${sql(rows)}`;
}

/** A platform admin's session, as the sign-in leaves it (the local link would do the same in a browser). */
async function signIn(sql: Sql): Promise<string> {
  await sql`
    insert into tenant_users (tenant_id, subject, email, role)
    values (null, 'demo-admin', 'maria@northwind.example', 'platform_admin') on conflict do nothing`;
  const token = randomBytes(32).toString("base64url");
  await sql`
    insert into console_sessions (token_hash, csrf_token, issuer, subject, email, name, current_tenant_id, expires_at)
    values (${createHash("sha256").update(token).digest()}, ${randomBytes(24).toString("base64url")}, 'local',
      'demo-admin', 'maria@northwind.example', 'Maria Lopez', ${DEFAULT_TENANT_ID}, now() + interval '1 hour')`;
  return token;
}

async function screenshots(token: string, sql: Sql) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  await context.addCookies([{ name: "sb_console", value: token, url: base }]);
  const page = await context.newPage();
  const shot = async (url: string, name: string) => {
    await page.goto(url);
    await page.waitForLoadState("networkidle");
    await page.screenshot({ path: join(OUT, `console-${name}.png`) });
    console.log(`wrote docs/images/console-${name}.png (${url.replace(base, "")})`);
  };
  await shot(tenantPath("escalations"), "escalations");
  const [sms] = await sql<{ id: string }[]>`
    select id from sessions where tenant_id = ${DEFAULT_TENANT_ID} and channel = 'sms' limit 1`;
  await shot(tenantPath(`conversations/${sms?.id}`), "conversation");
  await shot(tenantPath("knowledge/returns"), "knowledge");
  await shot(tenantPath("usage?days=30"), "usage");
  await browser.close();
}

try {
  await seedKnowledge();
  await seedWebChats();
  await seedTexts();
  await seedHistory(db.sql);
  await screenshots(await signIn(db.sql), db.sql);
} finally {
  await service.close();
  await twilio.close();
}
