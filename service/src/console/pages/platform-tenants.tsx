import type { Context } from "hono";
import { listTenants } from "../../db/platform";
import type { Tenant } from "../../domain/tenant";
import { TENANT_SLUG } from "../../domain/tenant";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { consolePlatform } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";

/** Tenants per page of the list (by slug, keyset: `?after=<last slug>`). */
const PAGE_SIZE = 50;

function afterOf(c: Context<AppEnv>): string | undefined {
  const after = c.req.query("after");
  if (after === undefined || after === "") return undefined;
  if (!TENANT_SLUG.test(after)) throw new AppError(400, "validation_failed", "`after` is not a tenant slug");
  return after;
}

/**
 * GET /console/platform/tenants (platform admins): every tenant, a form to create one, suspend and
 * reactivate, and the switch into a tenant's console. Changes go through the admin API's tenant routes
 * (POST and PATCH /api/v1/admin/tenants…), which check the role and write the audit log.
 */
export function platformTenantPages(deps: ConsoleDeps) {
  const app = createRouter();
  app.get("/console/platform/tenants", async (c) => {
    await consolePlatform(c, deps.admin.sql);
    const after = afterOf(c);
    const rows = await listTenants(deps.admin.sql, { limit: PAGE_SIZE + 1, afterSlug: after });
    const page = rows.slice(0, PAGE_SIZE);
    const next = rows.length > PAGE_SIZE ? page.at(-1)?.slug : undefined;
    return c.html(
      <Page c={c} title="All tenants" section="tenants">
        <CreateTenant />
        <section class="card" aria-labelledby="tenants-heading">
          <h2 id="tenants-heading">Tenants</h2>
          <TenantTable tenants={page} />
          <nav class="pager" aria-label="Pages of tenants">
            {after ? <a href="/console/platform/tenants">First page</a> : null}
            {next ? (
              <a href={`/console/platform/tenants?after=${encodeURIComponent(next)}`}>Next page</a>
            ) : null}
          </nav>
        </section>
      </Page>,
    );
  });
  return app;
}

function CreateTenant() {
  return (
    <section class="card" aria-labelledby="create-heading">
      <h2 id="create-heading">Create a tenant</h2>
      <form class="stack" data-api="POST /api/v1/admin/tenants" data-next="/console/platform/tenants">
        <p role="alert" class="error" tabindex={-1} />
        <label for="tenant-name">Name</label>
        <input id="tenant-name" name="name" required maxlength={200} autocomplete="organization" />
        <label for="tenant-slug">Slug</label>
        <input
          id="tenant-slug"
          name="slug"
          required
          maxlength={48}
          pattern="[a-z0-9][a-z0-9\-]*"
          aria-describedby="tenant-slug-hint"
        />
        <p id="tenant-slug-hint" class="hint">
          Lowercase letters, digits and "-": it names the tenant in URLs and logs, and cannot change.
        </p>
        <button type="submit" class="button">
          Create tenant
        </button>
      </form>
    </section>
  );
}

function TenantTable(props: { tenants: readonly Tenant[] }) {
  if (props.tenants.length === 0) return <p class="muted">No tenants yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">Tenants by slug</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Slug</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.tenants.map((t) => (
            <TenantRow tenant={t} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TenantRow(props: { tenant: Tenant }) {
  const t = props.tenant;
  const suspended = t.status === "suspended";
  return (
    <tr>
      <th scope="row">{t.name}</th>
      <td>
        <code>{t.slug}</code>
      </td>
      <td>
        <span class={`badge ${suspended ? "danger" : "ok"}`}>{t.status}</span>
      </td>
      <td>
        <time datetime={new Date(t.createdAt).toISOString()}>
          {new Date(t.createdAt).toISOString().slice(0, 10)}
        </time>
      </td>
      <td>
        <form
          class="inline"
          data-api={`PATCH /api/v1/admin/tenants/${t.id}`}
          data-next="reload"
          data-confirm={
            suspended ? undefined : `Suspend ${t.name}? Its customers get no answers until reactivated.`
          }
        >
          <p role="alert" class="error" tabindex={-1} />
          <input type="hidden" name="status" value={suspended ? "active" : "suspended"} />
          <a href={tenantPath(t.id, "escalations")}>Switch to {t.name}</a>
          <button
            type="submit"
            class={suspended ? "secondary" : "danger"}
            aria-label={`${suspended ? "Reactivate" : "Suspend"} ${t.name}`}
          >
            {suspended ? "Reactivate" : "Suspend"}
          </button>
        </form>
      </td>
    </tr>
  );
}
