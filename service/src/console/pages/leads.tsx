import type { Context } from "hono";
import { LEAD_STATUSES, type LeadStatus, type LeadWithContact, listLeads } from "../../db/leads";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { decodeCursor, pageOf } from "../../routes/admin/keyset";
import { ANY_ROLE, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { CsrfField, Page, tenantPath } from "../layout";
import { channelLabel, When } from "./conversation-parts";
import { PAGE_SIZE } from "./conversations";

function statusParam(c: Context<AppEnv>): LeadStatus | undefined {
  const status = c.req.query("status") || undefined;
  if (status && !(LEAD_STATUSES as readonly string[]).includes(status))
    throw new AppError(400, "validation_failed", `status is one of ${LEAD_STATUSES.join(", ")}`);
  return status as LeadStatus | undefined;
}

/**
 * The tenant's leads by status, newest first; a status changed through the admin API's PATCH (audited,
 * emits lead.updated), the CSV export is the admin API's own (the session cookie is its credential).
 */
export function leadPages(deps: ConsoleDeps) {
  const app = createRouter();
  const { sql } = deps.admin;

  app.get("/console/t/:tenantId/leads", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ANY_ROLE);
    const status = statusParam(c);
    const after = decodeCursor(c.req.query("after") || undefined);
    const rows = await inTenant(tenant.id, () => listLeads(sql, { status, limit: PAGE_SIZE + 1, after }));
    const { page, nextCursor } = pageOf(rows, PAGE_SIZE);
    const base = tenantPath(tenant.id, "leads");
    const filter: Record<string, string> = status ? { status } : {};
    const csv = `/api/v1/admin/tenants/${tenant.id}/leads?${new URLSearchParams({ ...filter, format: "csv" })}`;
    return c.html(
      <Page
        c={c}
        title="Leads"
        tenant={{ id: tenant.id, name: tenant.name }}
        section="leads"
        actions={
          <a class="button secondary" href={csv} download="leads.csv">
            Export CSV
          </a>
        }
      >
        <form class="inline card" method="get" action={base}>
          <label>
            Status
            <select name="status">
              <option value="">Any status</option>
              {LEAD_STATUSES.map((s) => (
                <option value={s} selected={status === s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Filter</button>
        </form>
        <LeadTable c={c} tenantId={tenant.id} rows={page} />
        <nav class="pager" aria-label="Pages">
          {c.req.query("after") ? <a href={`${base}?${new URLSearchParams(filter)}`}>← Newest</a> : null}
          {nextCursor ? (
            <a href={`${base}?${new URLSearchParams({ ...filter, after: nextCursor })}`} rel="next">
              Older →
            </a>
          ) : null}
        </nav>
      </Page>,
    );
  });
  return app;
}

function LeadTable(props: { c: Context<AppEnv>; tenantId: string; rows: LeadWithContact[] }) {
  if (props.rows.length === 0) return <p class="card">No lead matches.</p>;
  return (
    <div class="table-wrap">
      <table class="stack-on-phone">
        <thead>
          <tr>
            <th scope="col">Contact</th>
            <th scope="col">Intent</th>
            <th scope="col">Urgency</th>
            <th scope="col">From</th>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((l) => (
            <tr data-id={l.id}>
              <td>
                <a href={tenantPath(props.tenantId, `contacts/${l.contactId}`)}>
                  {l.contactName || l.contactEmail || l.contactPhone || "(unknown)"}
                </a>
                {l.summary ? <div class="hint">{l.summary}</div> : null}
              </td>
              <td>{l.intent}</td>
              <td>{l.urgency ?? ""}</td>
              <td>{channelLabel(l.sourceChannel)}</td>
              <td>
                <When at={l.createdAt} />
              </td>
              <td>
                <StatusForm c={props.c} tenantId={props.tenantId} lead={l} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The lead's status as a select sent to the admin API's PATCH; the page reloads to show the change. */
function StatusForm(props: { c: Context<AppEnv>; tenantId: string; lead: LeadWithContact }) {
  const id = `lead-status-${props.lead.id}`;
  return (
    <form
      class="inline"
      method="post"
      data-api={`PATCH /api/v1/admin/tenants/${props.tenantId}/leads/${props.lead.id}`}
      data-next="reload"
    >
      <p role="alert" class="error" tabindex={-1} />
      <select
        id={id}
        name="status"
        aria-label={`Status of the lead of ${props.lead.contactName ?? "this contact"}`}
      >
        {LEAD_STATUSES.map((s) => (
          <option value={s} selected={props.lead.status === s}>
            {s}
          </option>
        ))}
      </select>
      <CsrfField c={props.c} />
      <button type="submit" class="secondary">
        Set
      </button>
    </form>
  );
}
