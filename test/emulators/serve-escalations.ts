/**
 * The escalation part of `npm run emulators`: an SMTP sink standing in for the deployment's SMTP relay and a
 * Slack incoming-webhook sink, each printing what the service sends the tenant's team. A test fixture,
 * never part of the service.
 */
import { startSlackSink } from "./slack-sink";
import { startSmtpSink } from "./smtp-sink";

export async function startEscalationSinks(opts: { smtpPort?: number } = {}) {
  const smtp = await startSmtpSink({
    port: opts.smtpPort ?? Number(process.env.SMTP_SINK_PORT ?? 2525),
    onMessage: (m) => console.log(`e-mail to ${m.to.join(", ")}: ${m.subject}\n${m.text}\n`),
  });
  const slack = await startSlackSink();
  let seen = 0;
  const timer = setInterval(() => {
    for (const p of slack.posts.slice(seen)) console.log(`slack: ${p.text}`);
    seen = slack.posts.length;
  }, 250);
  const webhook = slack.webhookUrl("T000/B000/local");
  const instructions = `
SMTP sink on ${smtp.url}, Slack webhook sink on ${webhook}.

Add to Switchboard's environment (with ADMIN_API_KEY as above):

  SMTP_URL=${smtp.url} NOTIFY_FROM='Switchboard <escalations@localhost>' SLACK_WEBHOOK_HOSTS=127.0.0.1

Tell a tenant's team (docs/escalations.md):

  curl -s -X PATCH localhost:8080/api/v1/admin/tenants/00000000-0000-4000-8000-000000000001/settings \\
    -H "authorization: Bearer $ADMIN_API_KEY" -H 'content-type: application/json' \\
    -d '{"escalations":{"emails":["team@example.com"]}}'
  curl -s -X PUT localhost:8080/api/v1/admin/tenants/00000000-0000-4000-8000-000000000001/escalations/slack-webhook \\
    -H "authorization: Bearer $ADMIN_API_KEY" -H 'content-type: application/json' -d '{"url":"${webhook}"}'

Then write "I want to talk to a person" in the widget (http://localhost:8080/): this terminal prints the
e-mail and the Slack post; list, claim and resolve it at /api/v1/admin/tenants/{id}/escalations.
`;
  return {
    instructions,
    smtp,
    slack,
    async close() {
      clearInterval(timer);
      await Promise.all([smtp.close(), slack.close()]);
    },
  };
}
