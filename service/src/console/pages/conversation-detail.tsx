import type { Context } from "hono";
import type { Sql } from "../../db/client";
import { inTenant } from "../../db/tenant-scope";
import { findConversation, timelineOf } from "../../db/timeline";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { type ActingAdmin, recordAction } from "../../routes/admin/access";
import { ANY_ROLE, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { channelLabel, contactLabel, Timeline, When } from "./conversation-parts";

/** Entries of a timeline shown at most (the newest); a person's whole history is on their contact page. */
export const TIMELINE_LIMIT = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id the tenant does not have: the same 404 whether it is another tenant's or none at all (row-level
 * security shows this tenant's rows only), and an audit row, since changing an id in the URL is how one
 * would look for another tenant's conversation.
 */
export async function notInTenant(
  c: Context<AppEnv>,
  sql: Sql,
  granted: { tenant: { id: string }; acting: ActingAdmin },
  what: string,
): Promise<never> {
  await inTenant(granted.tenant.id, () =>
    recordAction(c, sql, granted.acting, {
      action: "console.refused",
      target: `${c.req.method} ${c.req.path}`,
      summary: { reason: `${what}_not_in_tenant` },
    }),
  );
  throw new AppError(404, "not_found", `No such ${what} in this tenant.`);
}

export const isUuid = (id: string) => UUID.test(id);

/** A conversation in one timeline with the rest of its contact's conversations, calls and escalations. */
export async function conversationPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const granted = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ANY_ROLE);
  const { tenant } = granted;
  const sessionId = c.req.param("sessionId") ?? "";
  if (!isUuid(sessionId)) return notInTenant(c, sql, granted, "conversation");
  const [head, entries] = await inTenant(tenant.id, () =>
    Promise.all([findConversation(sql, sessionId), timelineOf(sql, { sessionId, limit: TIMELINE_LIMIT })]),
  );
  if (!head) return notInTenant(c, sql, granted, "conversation");
  const who = contactLabel(head);
  return c.html(
    <Page
      c={c}
      title={`${channelLabel(head.channel)} conversation${who ? ` with ${who}` : ""}`}
      tenant={{ id: tenant.id, name: tenant.name }}
      section="conversations"
    >
      <div class="card">
        <dl class="grid">
          <div>
            <dt>Contact</dt>
            <dd>
              {head.contactId ? (
                <a href={tenantPath(tenant.id, `contacts/${head.contactId}`)}>{who ?? "Contact"}</a>
              ) : (
                <span class="muted">Not known yet</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>
              <When at={head.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Last activity</dt>
            <dd>
              <When at={head.updatedAt} />
            </dd>
          </div>
        </dl>
        {head.summary ? <p>Summary: {head.summary}</p> : null}
        {head.contactId ? (
          <p class="hint">
            The person's other conversations, calls and escalations are in this timeline too.
          </p>
        ) : null}
      </div>
      <h2>Timeline</h2>
      <Timeline tenantId={tenant.id} entries={entries} current={head.id} />
      <p>
        <a href={tenantPath(tenant.id, "conversations")}>← All conversations</a>
      </p>
    </Page>,
  );
}
