import type { Context } from "hono";
import { type AuditFilter, type AuditRecord, listAudit } from "../../db/audit";
import { listAuditAcrossTenants, listTenants } from "../../db/platform";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { ADMIN_ROLES, consolePlatform, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";

/** Entries per page; older ones by keyset (`?cursor=<last id>`), newest first. */
const PAGE_SIZE = 50;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The filters of the page's query (the same as the admin API's audit routes), checked. */
export interface AuditQuery {
  tenant?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  /** UTC days, both included. */
  from?: string | undefined;
  to?: string | undefined;
  cursor?: string | undefined;
}

function queryOf(c: Context<AppEnv>): AuditQuery {
  const get = (name: string) => c.req.query(name)?.trim() || undefined;
  const q = {
    tenant: get("tenant"),
    actor: get("actor"),
    action: get("action"),
    from: get("from"),
    to: get("to"),
    cursor: get("cursor"),
  };
  const bad = (what: string) => new AppError(400, "validation_failed", what);
  if (q.tenant && !UUID_RE.test(q.tenant)) throw bad("`tenant` is not a tenant id");
  if ((q.actor?.length ?? 0) > 320 || (q.action?.length ?? 0) > 100) throw bad("a filter is too long");
  for (const day of [q.from, q.to])
    if (day && (!DAY_RE.test(day) || Number.isNaN(Date.parse(day)))) throw bad("dates are YYYY-MM-DD");
  if (q.cursor && !/^\d{1,19}$/.test(q.cursor)) throw bad("`cursor` is not an entry id");
  return q;
}

const DAY = 86_400_000;

function filterOf(q: AuditQuery): AuditFilter {
  return {
    tenantId: q.tenant,
    actor: q.actor,
    action: q.action,
    since: q.from ? new Date(Date.parse(q.from)) : undefined,
    until: q.to ? new Date(Date.parse(q.to) + DAY) : undefined,
    beforeId: q.cursor,
    limit: PAGE_SIZE + 1,
  };
}

/** GET /console/platform/audit (platform admins) and /console/t/:id/audit (tenant admins). */
export function auditPages(deps: ConsoleDeps) {
  const app = createRouter();
  const { sql } = deps.admin;

  app.get("/console/platform/audit", async (c) => {
    await consolePlatform(c, sql);
    const q = queryOf(c);
    const rows = await listAuditAcrossTenants(sql, filterOf(q));
    // The tenant filter's choices and the names in the table (a deployment has tens of tenants, not thousands).
    const tenants = await listTenants(sql, { limit: 500 });
    const names = new Map(tenants.map((t) => [t.id, t.name]));
    return c.html(
      <Page c={c} title="Platform audit log" section="platform-audit">
        <AuditView path="/console/platform/audit" q={q} rows={rows} tenants={tenants} names={names} />
      </Page>,
    );
  });

  app.get("/console/t/:tenantId/audit", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ADMIN_ROLES);
    const q = { ...queryOf(c), tenant: undefined };
    const rows = await inTenant(tenant.id, () => listAudit(sql, filterOf(q)));
    return c.html(
      <Page c={c} title="Audit log" tenant={{ id: tenant.id, name: tenant.name }} section="audit">
        <AuditView path={tenantPath(tenant.id, "audit")} q={q} rows={rows} />
      </Page>,
    );
  });

  return app;
}

interface ViewProps {
  path: string;
  q: AuditQuery;
  rows: readonly AuditRecord[];
  /** The platform page's tenant filter and names; absent on a tenant's page. */
  tenants?: readonly { id: string; name: string }[];
  names?: ReadonlyMap<string, string>;
}

function AuditView(props: ViewProps) {
  const page = props.rows.slice(0, PAGE_SIZE);
  const last = props.rows.length > PAGE_SIZE ? page.at(-1)?.id : undefined;
  const keep = Object.entries({ ...props.q, cursor: undefined }).filter(([, v]) => v) as [string, string][];
  const older = last ? `${props.path}?${new URLSearchParams([...keep, ["cursor", last]])}` : undefined;
  const newest = props.q.cursor ? `${props.path}?${new URLSearchParams(keep)}` : undefined;
  return (
    <>
      <AuditFilters q={props.q} tenants={props.tenants} />
      <section class="card" aria-labelledby="entries-heading">
        <h2 id="entries-heading">Entries</h2>
        {page.length === 0 ? (
          <p class="muted">No entries match.</p>
        ) : (
          <AuditTable rows={page} names={props.names} />
        )}
        <nav class="pager" aria-label="Pages of entries">
          {newest ? <a href={newest}>Newest entries</a> : null}
          {older ? <a href={older}>Older entries</a> : null}
        </nav>
      </section>
    </>
  );
}

function AuditFilters(props: {
  q: AuditQuery;
  tenants?: readonly { id: string; name: string }[] | undefined;
}) {
  return (
    <form class="card inline" method="get" aria-label="Filter the audit log">
      {props.tenants ? (
        <span>
          <label for="audit-tenant">Tenant</label>
          <select id="audit-tenant" name="tenant">
            <option value="">Every tenant and the platform</option>
            {props.tenants.map((t) => (
              <option value={t.id} selected={t.id === props.q.tenant}>
                {t.name}
              </option>
            ))}
          </select>
        </span>
      ) : null}
      <Field
        id="audit-actor"
        name="actor"
        label="Actor"
        value={props.q.actor}
        hint="an e-mail, subject or admin-api-key"
      />
      <Field
        id="audit-action"
        name="action"
        label="Action"
        value={props.q.action}
        hint="e.g. tenant.created"
      />
      <Field id="audit-from" name="from" label="From" value={props.q.from} type="date" />
      <Field id="audit-to" name="to" label="To" value={props.q.to} type="date" />
      <button type="submit" class="button">
        Filter
      </button>
    </form>
  );
}

function Field(props: {
  id: string;
  name: string;
  label: string;
  value?: string | undefined;
  type?: string;
  hint?: string;
}) {
  return (
    <span>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        placeholder={props.hint}
      />
    </span>
  );
}

function AuditTable(props: {
  rows: readonly AuditRecord[];
  names?: ReadonlyMap<string, string> | undefined;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">Newest first</caption>
        <thead>
          <tr>
            <th scope="col">When (UTC)</th>
            {props.names ? <th scope="col">Tenant</th> : null}
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <td>
                <time datetime={new Date(r.at).toISOString()}>
                  {new Date(r.at).toISOString().slice(0, 19).replace("T", " ")}
                </time>
              </td>
              {props.names ? (
                <td>{r.tenantId ? (props.names.get(r.tenantId) ?? r.tenantId) : "platform"}</td>
              ) : null}
              <td>
                {r.actor} <span class="muted">({r.role})</span>
              </td>
              <td>
                <code>{r.action}</code>
              </td>
              <td>{r.target ?? ""}</td>
              <td>
                <code>{Object.keys(r.summary ?? {}).length > 0 ? JSON.stringify(r.summary) : ""}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
