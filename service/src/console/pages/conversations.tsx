import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  CONVERSATION_STATUSES,
  type ConversationFilter,
  type ConversationListRow,
  listConversations,
} from "../../db/conversations";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { ANY_ROLE, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { decodePosition, encodePosition } from "../list-cursor";
import { conversationPage } from "./conversation-detail";
import { CHANNELS, channelLabel, contactLabel, excerpt, StatusBadge, When } from "./conversation-parts";

/** Rows per page of the list. */
export const PAGE_SIZE = 50;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ListQuery = z.object({
  q: z.string().trim().max(200).optional(),
  channel: z.string().trim().max(40).optional(),
  status: z.enum(CONVERSATION_STATUSES).or(z.literal("")).optional(),
  contact: z.string().trim().max(200).optional(),
  from: z.string().regex(DAY).or(z.literal("")).optional(),
  to: z.string().regex(DAY).or(z.literal("")).optional(),
  after: z.string().max(200).optional(),
  before: z.string().max(200).optional(),
});
type ListParams = z.infer<typeof ListQuery>;

function listParams(c: Context<AppEnv>): ListParams {
  const parsed = ListQuery.safeParse(c.req.query());
  if (!parsed.success)
    throw new AppError(400, "validation_failed", "Those filters are not valid (dates are YYYY-MM-DD).");
  return parsed.data;
}

/** The form's fields as the database's filter: empty fields filter nothing; `to` is the whole day. */
export function filterOf(p: ListParams): ConversationFilter {
  const nextDay = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString();
  return {
    q: p.q || undefined,
    channel: p.channel || undefined,
    status: p.status || undefined,
    contact: p.contact || undefined,
    from: p.from ? `${p.from}T00:00:00Z` : undefined,
    until: p.to ? nextDay(p.to) : undefined,
  };
}

/** The agents' conversation browser: the list (filters, keyset pages) and each conversation's timeline. */
export function conversationPages(deps: ConsoleDeps) {
  const app = createRouter();
  const { sql } = deps.admin;

  app.get("/console/t/:tenantId/conversations", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ANY_ROLE);
    const p = listParams(c);
    const after = decodePosition(p.after);
    const before = after ? undefined : decodePosition(p.before);
    const rows = await inTenant(tenant.id, () =>
      listConversations(sql, filterOf(p), { limit: PAGE_SIZE + 1, after, before }),
    );
    // One row more than a page says whether another page lies in the direction read.
    const more = rows.length > PAGE_SIZE;
    const page = before
      ? rows.slice(rows.length - Math.min(rows.length, PAGE_SIZE))
      : rows.slice(0, PAGE_SIZE);
    const hasOlder = before ? true : more;
    const hasNewer = before ? more : after !== undefined;
    return c.html(
      <Page c={c} title="Conversations" tenant={{ id: tenant.id, name: tenant.name }} section="conversations">
        <Filters tenantId={tenant.id} p={p} />
        <ConversationTable tenantId={tenant.id} rows={page} />
        <Pager tenantId={tenant.id} p={p} page={page} hasOlder={hasOlder} hasNewer={hasNewer} />
      </Page>,
    );
  });

  app.get("/console/t/:tenantId/conversations/:sessionId", (c) => conversationPage(c, deps));
  return app;
}

function Filters(props: { tenantId: string; p: ListParams }) {
  const { p } = props;
  return (
    <form class="inline card" method="get" action={tenantPath(props.tenantId, "conversations")}>
      <label>
        Text in messages
        <input type="search" name="q" value={p.q ?? ""} />
      </label>
      <label>
        Channel
        <select name="channel">
          <option value="">All channels</option>
          {CHANNELS.map((ch) => (
            <option value={ch.value} selected={p.channel === ch.value}>
              {ch.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Status
        <select name="status">
          <option value="">Any status</option>
          {CONVERSATION_STATUSES.map((s) => (
            <option value={s} selected={p.status === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Contact
        <input type="search" name="contact" value={p.contact ?? ""} placeholder="name, e-mail or phone" />
      </label>
      <label>
        Active from
        <input type="date" name="from" value={p.from ?? ""} />
      </label>
      <label>
        to
        <input type="date" name="to" value={p.to ?? ""} />
      </label>
      <button type="submit">Search</button>
      <a href={tenantPath(props.tenantId, "conversations")}>Clear</a>
    </form>
  );
}

function ConversationTable(props: { tenantId: string; rows: ConversationListRow[] }) {
  if (props.rows.length === 0) return <p class="card">No conversation matches these filters.</p>;
  return (
    <div class="table-wrap">
      <table class="stack-on-phone">
        <caption class="muted">Newest activity first</caption>
        <thead>
          <tr>
            <th scope="col">Conversation</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col">Last activity</th>
            <th scope="col">Last message</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr data-id={r.id}>
              <td>
                <a href={tenantPath(props.tenantId, `conversations/${r.id}`)}>
                  {contactLabel(r) ?? `Visitor ${r.id.slice(0, 8)}`}
                </a>
              </td>
              <td>{channelLabel(r.channel)}</td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>
                <When at={r.updatedAt} />
              </td>
              <td>{excerpt(r.lastMessage)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "← Newer" and "Older →" links that keep the filters and carry the edge row's position. */
function Pager(props: {
  tenantId: string;
  p: ListParams;
  page: ConversationListRow[];
  hasOlder: boolean;
  hasNewer: boolean;
}) {
  const first = props.page[0];
  const last = props.page.at(-1);
  const link = (key: "after" | "before", row: ConversationListRow) => {
    const { after: _a, before: _b, ...filters } = props.p;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) query.set(k, v);
    query.set(key, encodePosition({ at: row.at, id: row.id }));
    return `${tenantPath(props.tenantId, "conversations")}?${query}`;
  };
  return (
    <nav class="pager" aria-label="Pages">
      {props.hasNewer && first ? (
        <a href={link("before", first)} rel="prev">
          ← Newer
        </a>
      ) : null}
      {props.hasOlder && last ? (
        <a href={link("after", last)} rel="next">
          Older →
        </a>
      ) : null}
    </nav>
  );
}
