import type { Context } from "hono";
import { type ContactRow, findContact, listContacts } from "../../db/contacts";
import { type LeadRow, leadsOfContact } from "../../db/leads";
import { inTenant } from "../../db/tenant-scope";
import { timelineOf } from "../../db/timeline";
import { toE164 } from "../../domain/phone";
import type { AppEnv } from "../../http/app-env";
import { createRouter } from "../../http/router";
import { decodeCursor, pageOf } from "../../routes/admin/keyset";
import { ADMIN_ROLES, ANY_ROLE, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { CsrfField, Page, tenantPath } from "../layout";
import { isUuid, notInTenant, TIMELINE_LIMIT } from "./conversation-detail";
import { channelLabel, Timeline, When } from "./conversation-parts";
import { PAGE_SIZE } from "./conversations";

/** A search for a phone number finds it however it is written (as the admin API's contact search). */
function searchTerm(q: string | undefined): string | undefined {
  const t = q?.trim().slice(0, 200);
  if (!t || !/\d/.test(t) || /[a-z@]/i.test(t)) return t || undefined;
  return toE164(t) ?? t;
}

/** The people the tenant's channels know: searched, listed newest first, each with their whole history. */
export function contactPages(deps: ConsoleDeps) {
  const app = createRouter();
  const { sql } = deps.admin;

  app.get("/console/t/:tenantId/contacts", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ANY_ROLE);
    const q = c.req.query("q")?.trim() ?? "";
    const after = decodeCursor(c.req.query("after") || undefined);
    const rows = await inTenant(tenant.id, () =>
      listContacts(sql, { q: searchTerm(q), limit: PAGE_SIZE + 1, after }),
    );
    const { page, nextCursor } = pageOf(rows, PAGE_SIZE);
    const base = tenantPath(tenant.id, "contacts");
    const more = (cursor: string) => `${base}?${new URLSearchParams({ ...(q ? { q } : {}), after: cursor })}`;
    return c.html(
      <Page c={c} title="Contacts" tenant={{ id: tenant.id, name: tenant.name }} section="contacts">
        <form class="inline card" method="get" action={base}>
          <label>
            Name, e-mail or phone
            <input type="search" name="q" value={q} />
          </label>
          <button type="submit">Search</button>
          <a href={base}>Clear</a>
        </form>
        <ContactTable tenantId={tenant.id} rows={page} />
        <nav class="pager" aria-label="Pages">
          {after ? <a href={q ? `${base}?${new URLSearchParams({ q })}` : base}>← Newest</a> : null}
          {nextCursor ? (
            <a href={more(nextCursor)} rel="next">
              Older →
            </a>
          ) : null}
        </nav>
      </Page>,
    );
  });

  app.get("/console/t/:tenantId/contacts/:contactId", (c) => contactPage(c, deps));
  return app;
}

function ContactTable(props: { tenantId: string; rows: ContactRow[] }) {
  if (props.rows.length === 0) return <p class="card">No contact matches.</p>;
  return (
    <div class="table-wrap">
      <table class="stack-on-phone">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">E-mail</th>
            <th scope="col">Phone</th>
            <th scope="col">Channels</th>
            <th scope="col">First seen</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr data-id={r.id}>
              <td>
                <a href={tenantPath(props.tenantId, `contacts/${r.id}`)}>{r.name || "(no name)"}</a>
              </td>
              <td>{r.email ?? ""}</td>
              <td>{r.phone ?? ""}</td>
              <td>{r.channels.map(channelLabel).join(", ")}</td>
              <td>
                <When at={r.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function contactPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const granted = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ANY_ROLE);
  const { tenant, acting } = granted;
  const contactId = c.req.param("contactId") ?? "";
  if (!isUuid(contactId)) return notInTenant(c, sql, granted, "contact");
  const [contact, leads, entries] = await inTenant(tenant.id, () =>
    Promise.all([
      findContact(sql, contactId),
      leadsOfContact(sql, contactId),
      timelineOf(sql, { contactId, limit: TIMELINE_LIMIT }),
    ]),
  );
  if (!contact) return notInTenant(c, sql, granted, "contact");
  const mayErase = ADMIN_ROLES.includes(acting.role);
  return c.html(
    <Page
      c={c}
      title={contact.name || contact.email || contact.phone || "Contact"}
      tenant={{ id: tenant.id, name: tenant.name }}
      section="contacts"
    >
      <ContactCard contact={contact} />
      <h2>Leads</h2>
      <LeadList tenantId={tenant.id} leads={leads} />
      <h2>Conversations, calls and escalations</h2>
      <Timeline tenantId={tenant.id} entries={entries} />
      {mayErase ? <EraseForm c={c} tenantId={tenant.id} contactId={contact.id} /> : null}
    </Page>,
  );
}

function ContactCard(props: { contact: ContactRow }) {
  const k = props.contact;
  const rows: [string, string | null][] = [
    ["Name", k.name],
    ["E-mail", k.email],
    ["Phone", k.phone],
    ["Company", k.company],
    ["Intercom contact", k.intercomContactId],
    ["Channels", k.channels.map(channelLabel).join(", ") || null],
  ];
  return (
    <div class="card">
      <dl class="grid">
        {rows.map(([label, value]) => (
          <div>
            <dt>{label}</dt>
            <dd>{value ?? <span class="muted">—</span>}</dd>
          </div>
        ))}
        <div>
          <dt>First seen</dt>
          <dd>
            <When at={k.createdAt} />
          </dd>
        </div>
      </dl>
    </div>
  );
}

function LeadList(props: { tenantId: string; leads: LeadRow[] }) {
  if (props.leads.length === 0) return <p class="muted">No lead for this person.</p>;
  return (
    <ul>
      {props.leads.map((l) => (
        <li>
          <span class="badge">{l.status}</span> {l.intent}
          {l.summary ? ` — ${l.summary}` : ""} (<When at={l.createdAt} />)
        </li>
      ))}
    </ul>
  );
}

/** Erasure through the admin API's DELETE (tenant admins): confirmed first, then back to the list. */
function EraseForm(props: { c: Context<AppEnv>; tenantId: string; contactId: string }) {
  return (
    <form
      class="card stack"
      method="post"
      data-api={`DELETE /api/v1/admin/tenants/${props.tenantId}/contacts/${props.contactId}`}
      data-confirm="Erase this person and everything kept of them (conversations, calls, leads)? This cannot be undone."
      data-next={tenantPath(props.tenantId, "contacts")}
    >
      <h2>Erase this person</h2>
      <p class="hint">GDPR erasure: their handles, conversations, calls, leads and texts are deleted.</p>
      <p role="alert" class="error" tabindex={-1} />
      <CsrfField c={props.c} />
      <div>
        <button type="submit" class="danger">
          Erase contact
        </button>
      </div>
    </form>
  );
}
