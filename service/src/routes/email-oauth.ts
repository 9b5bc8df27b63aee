import { createRoute, z } from "@hono/zod-openapi";
import type { ConnectedMailbox, MailboxConnections } from "../channels/email/connection";
import { createRouter } from "../http/router";
import { asHttp } from "./email-errors";
import { errorResponses } from "./schemas";

const Connected = z
  .object({
    tenant: z.object({ id: z.uuid(), name: z.string() }),
    mailbox: z.object({ connectionId: z.uuid(), address: z.string() }),
    reconnected: z.boolean(),
    watch: z.enum(["active", "none", "failed"]).openapi({
      description:
        "`active`: Gmail pushes new mail; `none`: no GMAIL_PUBSUB_TOPIC, the poll keeps the mailbox in sync; " +
        "`failed`: the watch is retried by the daily renewal (the poll syncs meanwhile)",
    }),
  })
  .openapi("ConnectedMailbox");

const callbackRoute = createRoute({
  method: "get",
  path: "/api/v1/email/oauth/callback",
  summary: "Google's redirect after consent: connects the mailbox (the single-use state is the credential)",
  request: {
    query: z.object({
      state: z.string().max(200).optional(),
      code: z.string().max(2048).optional(),
      error: z.string().max(200).optional(),
    }),
  },
  responses: {
    200: {
      description: "Connected: a small page, or JSON with `Accept: application/json`",
      content: { "text/html": { schema: z.string() }, "application/json": { schema: Connected } },
    },
    ...errorResponses(400, 409, 502, 503),
  },
});

/** The OAuth callback of connecting a mailbox; no credential but the state Google hands back. */
export function emailOAuthRoutes(connections: MailboxConnections) {
  const app = createRouter();
  app.openapi(callbackRoute, async (c) => {
    const done = await asHttp(() => connections.finish(c.req.valid("query")));
    const body = {
      tenant: done.tenant,
      mailbox: { connectionId: done.mailbox.connectionId, address: done.mailbox.address },
      reconnected: done.reconnected,
      watch: done.watch,
    };
    c.header("cache-control", "no-store");
    if ((c.req.header("accept") ?? "").includes("application/json")) return c.json(body, 200);
    return c.body(connectedPage(done), 200, { "content-type": "text/html; charset=utf-8" });
  });
  return app;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const WATCH_NOTE: Record<ConnectedMailbox["watch"], string> = {
  active: "Gmail tells Switchboard of new mail at once.",
  none: "This deployment has no Pub/Sub topic (GMAIL_PUBSUB_TOPIC): new mail is picked up by the poll, within a minute or so.",
  failed:
    "Gmail's push notifications could not be set up yet; they are retried daily, and new mail is picked up by the poll meanwhile.",
};

function connectedPage(done: ConnectedMailbox): string {
  const mailbox = escapeHtml(done.mailbox.address);
  const tenant = escapeHtml(done.tenant.name);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mailbox connected</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>${mailbox} is ${done.reconnected ? "connected again" : "connected"}</h1>
<p>Switchboard now answers the mail of this inbox for <strong>${tenant}</strong>.</p>
<p>${escapeHtml(WATCH_NOTE[done.watch])}</p>
<p>You can close this page.</p>
</body></html>
`;
}
