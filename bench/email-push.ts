/**
 * Gmail push acknowledgement latency at a fixed arrival rate, against the Intercom webhook measured in the
 * same run on the same service as the baseline (not a test; `npm run bench`).
 *
 * The service runs in its own process on the PostgreSQL server with the Gmail + Google OAuth emulator
 * (offline model). One mailbox is connected to the default tenant through the real flow (the admin's
 * connect, the emulator's consent, the service's callback). A push's OIDC token is verified against the
 * emulator's key set (fetched once, then cached), the mailbox is found by address (one platform lookup),
 * the push and its sync request are recorded in one statement and a sync task is queued; the sync, the
 * answer and its send run afterwards through the in-process queue, beside the acknowledgements. Every
 * `BENCH_MAIL_EVERY`-th push (default 4) carries a new mail; the others stand for the mailbox's other INBOX
 * changes (read, labelled), which Gmail pushes too. Both loads are open loops of distinct signed
 * notifications at evenly spaced instants over 20 connections (load.ts).
 *
 * The pushes are signed before the run (RS256 takes about a millisecond in this process, which would
 * otherwise count in their latency; the Intercom bodies are prepared beforehand the same way). Pub/Sub
 * waits 10 s for the answer by default (our subscription: 30 s, infra/environments.ts); the figure to
 * watch is the ratio to the baseline. After the load, every delivered mail must have been answered once:
 * the replies in the emulated mailbox are counted by the message they answer (printed, not asserted).
 */
import { Agent } from "node:http";
import { type GmailEmulator, type PushRequest, startGmailEmulator } from "../test/emulators/gmail";
import { composeMail } from "../test/emulators/gmail-mime";
import { signedNotification, startIntercomEmulator } from "../test/emulators/intercom";
import { benchSchema, percentile, SERVER_DB, startServiceProcess, writeResult } from "./lib";
import { openLoop, type PacedSamples, post, summarize } from "./load";

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const MAIL_EVERY = Number(process.env.BENCH_MAIL_EVERY ?? 4);
const SECRET = "bench-client-secret";
const ADMIN_API_KEY = "bench-admin-api-key-0123456789abcdef";
const TENANT = "00000000-0000-4000-8000-000000000001";
const MAILBOX = "support@bench.example";
const PUBLIC_URL = "https://switchboard.bench.example";
const CALLBACK = "/api/v1/email/oauth/callback";
const PUSH_PATH = "/webhooks/email/gmail-push";
const AUDIENCE = `${PUBLIC_URL}${PUSH_PATH}`;
const PUSH_ACCOUNT = "gmail-push@switchboard-bench.iam.gserviceaccount.com";
const CONNECTIONS = 20;
/** Room between two pushes' historyIds for the service's own changes (its replies) in between. */
const HISTORY_STEP = 100;

const intercom = await startIntercomEmulator({ rateLimitPerWindow: 1_000_000 });
const emu = await startGmailEmulator({ redirectUris: [`${PUBLIC_URL}${CALLBACK}`] });
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  MODEL_PROVIDER: "local",
  // The model limiter stands for the deployment's Gemini quota (500 calls a minute by default), which the
  // offline model does not have: at the default, most answers would wait minutes for it instead of running
  // beside the acknowledgements, as they are meant to here.
  MODEL_REQUESTS_PER_MINUTE: "1000000",
  MODEL_TOKENS_PER_MINUTE: "1000000000",
  SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
  ADMIN_API_KEY,
  INTERCOM_ACCESS_TOKEN: intercom.token,
  INTERCOM_API_BASE: intercom.url,
  INTERCOM_WEBHOOK_SECRET: SECRET,
  GOOGLE_OAUTH_CLIENT_ID: emu.client.clientId,
  GOOGLE_OAUTH_CLIENT_SECRET: emu.client.clientSecret,
  GOOGLE_OAUTH_BASE: emu.url,
  GMAIL_API_BASE: emu.url,
  GMAIL_PUBSUB_TOPIC: "projects/switchboard-bench/topics/gmail-push",
  GMAIL_PUSH_SERVICE_ACCOUNT: PUSH_ACCOUNT,
  GMAIL_PUSH_ISSUER: emu.issuer,
  GMAIL_PUSH_JWKS_URL: emu.jwksUrl,
  GMAIL_PUSH_AUDIENCE: AUDIENCE,
  PUBLIC_URL,
  POLLING_INTERVAL: "0",
});
await connectMailbox();

/** The admin's connect, the consent screen's redirect, the service's callback: as a browser follows them. */
async function connectMailbox() {
  emu.consentAs(MAILBOX);
  const started = await fetch(`${svc.url}/api/v1/admin/tenants/${TENANT}/email/connect`, {
    headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    redirect: "manual",
  });
  if (started.status !== 302) throw new Error(`connect: ${started.status} ${await started.text()}`);
  const google = await fetch(started.headers.get("location") ?? "", { redirect: "manual" });
  const back = new URL(google.headers.get("location") ?? "");
  const done = await fetch(`${svc.url}${CALLBACK}${back.search}`, {
    headers: { accept: "application/json" },
  });
  if (done.status !== 200) throw new Error(`callback: ${done.status} ${await done.text()}`);
  if (!emu.mailbox(MAILBOX).watch) throw new Error("connect: the mailbox is not watched");
}

const total = RATE * (SECONDS + 1);
const intercomBodies = Array.from({ length: total }, (_, i) => {
  const conv = intercom.createConversation({ body: `Benchmark question ${i}: how do refunds work?` });
  return signedNotification(
    SECRET,
    "conversation.user.created",
    intercom.webhookItem(conv.id, { parts: "none" }),
  );
});

/** One push: its signed request, the historyId it names, and the mail that arrives with it (if any). */
interface PlannedPush {
  request: PushRequest;
  historyId: number;
  mail: { raw: string; messageId: string } | undefined;
}

const firstHistoryId = emu.mailbox(MAILBOX).historyId;
const pushes: PlannedPush[] = [];
for (let i = 0; i < total; i++) {
  const historyId = firstHistoryId + (i + 1) * HISTORY_STEP;
  pushes.push({
    historyId,
    request: await emu.pushRequest({
      audience: AUDIENCE,
      serviceAccountEmail: PUSH_ACCOUNT,
      data: { emailAddress: MAILBOX, historyId },
    }),
    mail: i % MAIL_EVERY === 0 ? await customerMail(i) : undefined,
  });
}

async function customerMail(i: number) {
  const messageId = `<bench-${i}@customer.example>`;
  const raw = await composeMail({
    from: `Customer ${i} <customer${i}@customer.example>`,
    to: MAILBOX,
    subject: `Refunds (${i})`,
    text: `Benchmark question ${i}: how do refunds work?`,
    messageId,
  });
  return { raw, messageId };
}

/**
 * The mailbox changes, then Gmail pushes: the mailbox's historyId is raised to the push's (a change that is
 * not a new mail, or the new mail's own), never lowered below what the service's replies made it.
 */
function pushNext(
  mailbox: GmailEmulator,
  push: PlannedPush,
): { body: string; headers: Record<string, string> } {
  const box = mailbox.mailbox(MAILBOX);
  box.historyId = Math.max(box.historyId, push.historyId - 1);
  if (push.mail) void mailbox.deliver(MAILBOX, push.mail.raw);
  else box.historyId = Math.max(box.historyId, push.historyId);
  return { body: push.request.body, headers: push.request.headers };
}

async function measure(path: string, next: (i: number) => { body: string; headers: Record<string, string> }) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let i = 0;
  // How the pushes were taken ("accepted"; a "duplicate" or "unrouted" would mean the bench measured less).
  const statuses: Record<string, number> = {};
  const samples = await openLoop(RATE, SECONDS, CONNECTIONS, async () => {
    const n = next(i++);
    const answer = await post(`${svc.url}${path}`, n.body, n.headers, agent);
    const status = statusOf(answer.body);
    statuses[status] = (statuses[status] ?? 0) + 1;
    return answer;
  });
  agent.destroy();
  return { sent: i, statuses, ...withP95(samples) };
}

function statusOf(body: string): string {
  try {
    return String((JSON.parse(body) as { status?: unknown }).status ?? "none");
  } catch {
    return "not json";
  }
}

/** load.ts's summary with the 95th percentile as well. */
function withP95(samples: PacedSamples) {
  const run = summarize(RATE, [samples]);
  const sorted = [...samples.latencies].sort((a, b) => a - b);
  const p95 = Math.round(percentile(sorted, 95) * 100) / 100;
  const { p50, p99, max } = run.latencyMs;
  return { ...run, latencyMs: { p50, p95, p99, max } };
}

const baseline = await measure(
  "/webhooks/intercom",
  (i) => intercomBodies[i % total] as { body: string; headers: Record<string, string> },
);
const gmail = await measure(PUSH_PATH, (i) => pushNext(emu, pushes[i] as PlannedPush));
type Key = keyof typeof gmail.latencyMs;
const ratio = (key: Key) => Number((gmail.latencyMs[key] / baseline.latencyMs[key]).toFixed(2));
const delivered = pushes.slice(0, gmail.sent).flatMap((p) => (p.mail ? [p.mail.messageId] : []));
const answers = await answersOnceSettled(delivered);

/**
 * The replies in the mailbox, counted by the mail they answer (In-Reply-To), once every delivered mail has
 * one or nothing changed for 30 s (the answers run behind the acknowledgements).
 */
async function answersOnceSettled(mails: readonly string[]) {
  const started = performance.now();
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const sent = emu.messages(MAILBOX, "SENT");
    if (sent.length !== last) [last, lastChange] = [sent.length, performance.now()];
    const byMail = new Map<string, number>();
    for (const m of sent) {
      const answered = emu.header(m, "In-Reply-To") ?? "";
      byMail.set(answered, (byMail.get(answered) ?? 0) + 1);
    }
    const answeredOnce = mails.filter((id) => byMail.get(id) === 1).length;
    const quiet = performance.now() - lastChange > 30_000;
    if (answeredOnce === mails.length || quiet)
      return {
        delivered: mails.length,
        sent: sent.length,
        answeredOnce,
        answeredTwiceOrMore: mails.filter((id) => (byMail.get(id) ?? 0) > 1).length,
        unanswered: mails.filter((id) => !byMail.has(id)).length,
        secondsAfterLoad: Math.round((performance.now() - started) / 100) / 10,
      };
    await new Promise((r) => setTimeout(r, 500));
  }
}

writeResult("email-push", {
  database: "server",
  targetRatePerSecond: RATE,
  durationSeconds: SECONDS,
  pubsubAckDeadlineSeconds: { default: 10, ours: 30 },
  baseline: {
    path: "/webhooks/intercom",
    requests: baseline.requests,
    non2xx: baseline.non2xx,
    errors: baseline.errors,
    latencyMs: baseline.latencyMs,
  },
  gmail: {
    path: PUSH_PATH,
    mailEvery: MAIL_EVERY,
    requests: gmail.requests,
    non2xx: gmail.non2xx,
    errors: gmail.errors,
    statuses: gmail.statuses,
    latencyMs: gmail.latencyMs,
  },
  ratio: { p50: ratio("p50"), p95: ratio("p95"), p99: ratio("p99"), max: ratio("max") },
  answers,
});
console.table([
  {
    webhook: "intercom (baseline)",
    requests: baseline.requests,
    non2xx: baseline.non2xx,
    ...baseline.latencyMs,
  },
  { webhook: "gmail push", requests: gmail.requests, non2xx: gmail.non2xx, ...gmail.latencyMs },
]);
console.log(
  `gmail push / intercom: p50 ×${ratio("p50")}, p95 ×${ratio("p95")}, p99 ×${ratio("p99")}, max ×${ratio("max")}`,
);
console.log(`gmail push answers: ${JSON.stringify(gmail.statuses)}`);
console.log(
  `Pub/Sub waits 10 s for a push's answer by default (our subscription: 30 s); the slowest answer took ${gmail.latencyMs.max} ms.`,
);
console.log(
  `mails delivered: ${answers.delivered}; answered exactly once: ${answers.answeredOnce}; more than once: ${answers.answeredTwiceOrMore}; unanswered: ${answers.unanswered} (replies in SENT: ${answers.sent}, settled ${answers.secondsAfterLoad} s after the load)`,
);

await svc.stop();
await db.drop();
await intercom.close();
await emu.close();
