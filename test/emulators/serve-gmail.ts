/**
 * The Gmail part of `npm run emulators`: the Gmail API + Google OAuth emulator with the consent screen
 * signing in as one mailbox, playing Pub/Sub for the service's push webhook, and printing every mail the
 * service sends or drafts. A test fixture, never part of the service.
 */
import { startGmailEmulator } from "./gmail";

const SERVICE = process.env.SWITCHBOARD_URL ?? "http://localhost:8080";
const MAILBOX = process.env.GMAIL_EMULATOR_MAILBOX ?? "support@acme.example";
const PUSH_SA = "gmail-push@switchboard-local.iam.gserviceaccount.com";
const TOPIC = "projects/switchboard-local/topics/gmail-push";

export async function startGmailEmulators() {
  const push = `${SERVICE}/webhooks/email/gmail-push`;
  const gmail = await startGmailEmulator({
    port: Number(process.env.GMAIL_EMULATOR_PORT ?? 4020),
    redirectUris: [`${SERVICE}/api/v1/email/oauth/callback`],
    push: { endpoint: push, audience: push, serviceAccountEmail: PUSH_SA },
  });
  gmail.consentAs(MAILBOX);
  let seen = 0;
  const timer = setInterval(() => {
    const out = gmail.messages(MAILBOX).filter((m) => !m.labelIds.includes("INBOX"));
    for (const m of out.slice(seen)) {
      console.log(
        `gmail ${m.labelIds.join(",")} in thread ${m.threadId}: ${gmail.header(m, "Subject")}\n${m.snippet}\n`,
      );
    }
    seen = out.length;
  }, 250);
  const instructions = `
Gmail + Google OAuth emulator on ${gmail.url} (mailbox ${MAILBOX}; it plays Pub/Sub for ${push}).

Add to Switchboard's environment (with ADMIN_API_KEY and PUBLIC_URL=${SERVICE} as above):

  GOOGLE_OAUTH_CLIENT_ID=${gmail.client.clientId} GOOGLE_OAUTH_CLIENT_SECRET=${gmail.client.clientSecret} \\
  GOOGLE_OAUTH_BASE=${gmail.url} GMAIL_API_BASE=${gmail.url} GMAIL_PUBSUB_TOPIC=${TOPIC} \\
  GMAIL_PUSH_SERVICE_ACCOUNT=${PUSH_SA} GMAIL_PUSH_ISSUER=${gmail.issuer} GMAIL_PUSH_JWKS_URL=${gmail.jwksUrl}

Connect the mailbox to a tenant (README "E-mail (Gmail)"; docs/email.md): the emulator's consent screen
signs in as ${MAILBOX} at once, and the callback shows the connected mailbox.

  curl -sL "$(curl -s -o /dev/null -w '%{redirect_url}' localhost:8080/api/v1/admin/tenants/$TENANT/email/connect -H "authorization: Bearer $ADMIN_API_KEY")"

Then drop a message into it; this terminal prints the reply (or the draft):

  curl -s ${gmail.url}/_emulator/deliver -H 'content-type: application/json' \\
    -d '{"from":"jane@customer.example","to":"${MAILBOX}","subject":"Opening hours","text":"When are you open?"}'
`;
  return {
    instructions,
    gmail,
    async close() {
      clearInterval(timer);
      await gmail.close();
    },
  };
}
