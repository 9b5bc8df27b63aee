/**
 * The Gmail part of `npm run emulators`: the Gmail API + Google OAuth emulator with the consent screen
 * signing in as one mailbox, playing Pub/Sub for the service's push webhook, and printing every mail the
 * service sends or drafts. A test fixture, never part of the service. Not started by `npm run emulators`
 * until the service has the e-mail channel (issue 15): its instructions name endpoints that do not exist yet.
 */
import { startGmailEmulator } from "./gmail";

const SERVICE = process.env.SWITCHBOARD_URL ?? "http://localhost:8080";
const MAILBOX = process.env.GMAIL_EMULATOR_MAILBOX ?? "support@acme.example";
const PUSH_SA = "gmail-push@switchboard-local.iam.gserviceaccount.com";

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

Point Switchboard at it: GOOGLE_OAUTH_BASE=${gmail.url} GMAIL_API_BASE=${gmail.url}
  OAuth client id ${gmail.client.clientId}, secret ${gmail.client.clientSecret}
  push tokens: issuer ${gmail.issuer}, JWKS ${gmail.jwksUrl}, audience ${push}, service account ${PUSH_SA}

Connect the mailbox (GET /api/v1/admin/tenants/{id}/email/connect in a browser consents at once), then drop a
message into it; this terminal prints the reply:

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
