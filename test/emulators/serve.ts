/**
 * Runs the emulators on their own (`npm run emulators`), so the channels can be tried by hand without an
 * Intercom workspace or a Twilio or Telnyx account: Intercom (a seeded conversation and the exact curl of a
 * signed notification), Twilio and Telnyx with a phone that texts the service (serve-sms.ts), and an SMTP
 * and a Slack sink that print what the tenant's team is told of escalations (serve-escalations.ts), and
 * Gmail with Google OAuth and Pub/Sub's push (serve-gmail.ts).
 * A test fixture, never part of the service.
 */
import { writeFileSync } from "node:fs";
import { signedNotification, startIntercomEmulator } from "./intercom";
import { startEscalationSinks } from "./serve-escalations";
import { startGmailEmulators } from "./serve-gmail";
import { startOidcEmulator } from "./serve-oidc";
import { startSmsEmulators } from "./serve-sms";
import { startWebhookReceiver } from "./webhook-receiver";

const SECRET = process.env.INTERCOM_WEBHOOK_SECRET ?? "local-intercom-client-secret";
const intercom = await startIntercomEmulator();
const hello = intercom.createConversation({
  body: "How do I reset my password?",
  contact: { email: "ada@example.com" },
});
const person = intercom.createConversation({ body: "I want to talk to a person" });
const team = intercom.supportTeam.id;

function notify(id: string, file: string) {
  const n = signedNotification(
    SECRET,
    "conversation.user.created",
    intercom.webhookItem(id, { parts: "none" }),
  );
  writeFileSync(file, n.body);
  return `curl -s localhost:8080/webhooks/intercom -H 'content-type: application/json' -H 'x-hub-signature: ${n.headers["X-Hub-Signature"]}' --data-binary @${file}`;
}

console.log(`Intercom emulator on ${intercom.url}

Start Switchboard against it (another terminal):

  INTERCOM_ACCESS_TOKEN=${intercom.token} INTERCOM_API_BASE=${intercom.url} \\
  INTERCOM_WEBHOOK_SECRET=${SECRET} HANDOFF_ASSIGNEE=team:${team} npm start

Then deliver the signed notifications:

  ${notify(hello.id, "/tmp/switchboard-notification-1.json")}
  ${notify(person.id, "/tmp/switchboard-notification-2.json")}

This terminal prints what the bot does in Intercom.
`);

const sms = await startSmsEmulators();
console.log(sms.instructions);
// ---- Signed webhooks out: a receiver that verifies with the standardwebhooks package and prints events ----
const hooks = await startWebhookReceiver({
  secretsByHttp: true,
  onEvent: (e) =>
    console.log(`webhook ${e.type} (${e.id}) at ${e.path}, signature verified: ${JSON.stringify(e.data)}`),
});
let hooksRejected = 0;
setInterval(() => {
  for (const r of hooks.rejected.slice(hooksRejected))
    console.log(`webhook refused at ${r.path}: ${r.reason}`);
  hooksRejected = hooks.rejected.length;
}, 250);
console.log(`Webhook receiver on ${hooks.url} (docs/webhooks.md). Register it, then give it the secret:

  curl -s -X POST localhost:8080/api/v1/admin/tenants/$TENANT/webhook-endpoints -H "Authorization: Bearer $ADMIN_API_KEY" \\
    -H 'content-type: application/json' -d '{"url":"${hooks.url}/crm","events":["lead.created","escalation.created"]}'
  curl -s -X PUT ${hooks.url}/_secrets/crm --data 'whsec_…'   # the secret the answer showed
  curl -s -X POST localhost:8080/api/v1/admin/tenants/$TENANT/webhook-endpoints/$ENDPOINT/test -H "Authorization: Bearer $ADMIN_API_KEY"
`);
// ---- end of signed webhooks out ----

const escalations = await startEscalationSinks();
console.log(escalations.instructions);
// ---- E-mail: the Gmail API + OAuth emulator, playing Pub/Sub for the push webhook ----
const gmail = await startGmailEmulators();
console.log(gmail.instructions);
// ---- end of e-mail ----
// ---- The console's sign-in: an OpenID provider whose one person is the local platform admin ----
const oidc = await startOidcEmulator();
console.log(oidc.instructions);
// ---- end of the console's sign-in ----
console.log("Ctrl-C stops the emulators.");

let seen = 0;
setInterval(() => {
  const lines = intercom.requests.slice(seen).filter((r) => r.method !== "GET");
  seen = intercom.requests.length;
  for (const r of lines) {
    const body = r.body as { message_type?: string; body?: string; assignee_id?: string } | undefined;
    console.log(
      `${r.method} ${r.path}${body?.message_type ? ` [${body.message_type}]` : ""} ${body?.body ?? body?.assignee_id ?? ""}`,
    );
  }
}, 250);
process.once("SIGINT", () => {
  void Promise.all([intercom.close(), sms.close(), hooks.close(), escalations.close(), gmail.close()]).then(
    () => process.exit(0),
  );
});
