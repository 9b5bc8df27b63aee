import { randomUUID } from "node:crypto";
import type { Sql } from "../../db/client";
import { type QueueEntry, queueEntry } from "../../db/escalation-queue";
import { type EscalationReplyRow, repliesOf } from "../../db/escalation-replies";
import { listMessages, type MessageRow } from "../../db/messages";
import { findSessionByRef } from "../../db/sessions";
import { inTenant } from "../../db/tenant-scope";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { ANY_ROLE, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { ageOf, channelLabel, customerOf, EscalationActions, StatusBadge } from "./escalation-view";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Escalated {
  entry: QueueEntry;
  messages: MessageRow[];
  replies: EscalationReplyRow[];
}

/** The escalation, its conversation's messages (the session's, oldest first) and the replies sent. */
async function readEscalation(sql: Sql, id: string): Promise<Escalated | undefined> {
  const entry = await queueEntry(sql, id);
  if (!entry) return undefined;
  const sessionId =
    entry.sessionId ?? (await findSessionByRef(sql, entry.channel, entry.conversationId))?.id ?? null;
  const messages = sessionId ? await listMessages(sql, sessionId, { limit: 200 }) : [];
  return { entry, messages, replies: await repliesOf(sql, id) };
}

/** GET /console/t/:tenantId/escalations/:id — another tenant's id is the same 404 as none. */
export function escalationPage(deps: ConsoleDeps) {
  const app = createRouter();
  const { sql } = deps.admin;
  app.get("/console/t/:tenantId/escalations/:id", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ANY_ROLE);
    const id = c.req.param("id");
    const found = UUID.test(id) ? await inTenant(tenant.id, () => readEscalation(sql, id)) : undefined;
    if (!found) throw new AppError(404, "escalation_not_found", "There is no such escalation.");
    const { entry } = found;
    const customer = customerOf(entry);
    return c.html(
      <Page
        c={c}
        title={`Escalation: ${customer.name}`}
        tenant={{ id: tenant.id, name: tenant.name }}
        section="escalations"
        actions={<EscalationActions tenantId={tenant.id} entry={entry} label={customer.name} />}
      >
        <p>
          <a href={tenantPath(tenant.id, "escalations")}>Back to the queue</a>
        </p>
        <Facts entry={entry} />
        <section aria-labelledby="conversation-h">
          <h2 id="conversation-h">Conversation</h2>
          <Timeline messages={found.messages} />
        </section>
        <section aria-labelledby="answer-h" class="card">
          <h2 id="answer-h">Answer the customer</h2>
          <Replies replies={found.replies} />
          <Answer tenantId={tenant.id} entry={entry} />
        </section>
      </Page>,
    );
  });
  return app;
}

function Facts(props: { entry: QueueEntry }) {
  const e = props.entry;
  const customer = customerOf(e);
  return (
    <section class="card" aria-label="About this escalation">
      <dl class="grid">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={e.status} />
          {e.claimedBy ? ` claimed by ${e.claimedBy}` : null}
        </dd>
        <dt>Customer</dt>
        <dd>{[customer.name, customer.detail].filter(Boolean).join(" · ")}</dd>
        <dt>Channel</dt>
        <dd>{channelLabel(e.channel)}</dd>
        <dt>Reason</dt>
        <dd>{e.reason.replaceAll("_", " ")}</dd>
        <dt>Waiting</dt>
        <dd>
          <time datetime={new Date(e.createdAt).toISOString()}>{ageOf(e.createdAt)}</time>
        </dd>
        <dt>Summary</dt>
        <dd>{e.summary ?? "none yet"}</dd>
      </dl>
    </section>
  );
}

const WHO: Record<MessageRow["role"], string> = { user: "Customer", assistant: "Assistant", agent: "Agent" };
const CLASS: Record<MessageRow["role"], string> = {
  user: "customer",
  assistant: "assistant",
  agent: "agent",
};

function Timeline(props: { messages: MessageRow[] }) {
  if (props.messages.length === 0)
    return (
      <p class="muted">No messages were kept of this conversation; the summary above is what is known.</p>
    );
  return (
    <ol class="timeline">
      {props.messages.map((m) => (
        <li class={CLASS[m.role]}>
          <div class="meta">
            {WHO[m.role]} · <time datetime={m.createdAt.toISOString()}>{m.createdAt.toISOString()}</time>
          </div>
          <div class="body">{m.content}</div>
        </li>
      ))}
    </ol>
  );
}

function Replies(props: { replies: EscalationReplyRow[] }) {
  if (props.replies.length === 0) return null;
  return (
    <ul>
      {props.replies.map((r) => (
        <li>
          {r.author}: <StatusBadge status={r.status} />
          {r.outcome ? ` (${r.outcome.replaceAll("_", " ")})` : null}
        </li>
      ))}
    </ul>
  );
}

/** The answer form; its replyId is made once per page, so a double submit or a retry sends once. */
function Answer(props: { tenantId: string; entry: QueueEntry }) {
  const e = props.entry;
  if (e.status === "resolved") return <p class="muted">This escalation is resolved.</p>;
  if (e.channel === "voice") {
    const phone = e.contactPhone ?? e.conversationId;
    return (
      <p>
        A phone call cannot be answered in writing. Call the customer back at{" "}
        <a href={`tel:${phone}`}>{phone}</a>.
      </p>
    );
  }
  const api = `/api/v1/admin/tenants/${props.tenantId}/escalations/${e.id}/reply`;
  return (
    <form class="stack" data-api={`POST ${api}`} data-next="reload">
      <p role="alert" class="error" />
      <input type="hidden" name="replyId" value={randomUUID()} />
      <label for="reply-text">
        Your answer, sent by {channelLabel(e.channel)}
        {e.status === "open" ? " (answering claims the escalation for you)" : ""}
      </label>
      <textarea id="reply-text" name="text" rows={5} required maxlength={4000} />
      <button type="submit">Send</button>
    </form>
  );
}
