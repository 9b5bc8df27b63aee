import type { Context } from "hono";
import { inTenant } from "../../db/tenant-scope";
import { listEndpoints, type WebhookEndpoint } from "../../db/webhook-endpoints";
import { OUTBOUND_EVENT_TYPES } from "../../engine/follow-up";
import type { AppEnv } from "../../http/app-env";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { ApiForm, adminApi, ShownOnce } from "./admin-parts";

/** GET /console/t/:tenantId/webhooks: the tenant's endpoints for signed webhooks, and adding one. */
export async function webhooksPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const endpoints = await inTenant(tenant.id, () => listEndpoints(sql));
  return c.html(
    <Page c={c} title="Webhooks" tenant={{ id: tenant.id, name: tenant.name }} section="webhooks">
      {endpoints.length === 0 ? (
        <p class="card">No endpoint yet: add one to send leads, escalations and calls to a CRM or Zapier.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">Endpoints receiving signed events (Standard Webhooks)</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <EndpointRow tenantId={tenant.id} endpoint={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Add an endpoint</h2>
      <ApiForm
        api={`POST ${adminApi(tenant.id, "webhook-endpoints")}`}
        label="Add a webhook endpoint"
        result="new-endpoint-secret"
        show="secret"
      >
        <EndpointFields />
        <button type="submit">Add endpoint</button>
      </ApiForm>
      <ShownOnce id="new-endpoint-secret" label="The endpoint's signing secret.">
        <a href={tenantPath(tenant.id, "webhooks")}>Done</a>
      </ShownOnce>
    </Page>,
  );
}

export function StatusBadge(props: { endpoint: WebhookEndpoint }) {
  const e = props.endpoint;
  if (e.status === "disabled")
    return <span class="badge danger">{`Disabled${e.disabledReason ? `: ${e.disabledReason}` : ""}`}</span>;
  if (e.consecutiveFailures > 0)
    return <span class="badge warn">{`Failing (${e.consecutiveFailures} in a row)`}</span>;
  return <span class="badge ok">Enabled</span>;
}

function EndpointRow(props: { tenantId: string; endpoint: WebhookEndpoint }) {
  const e = props.endpoint;
  return (
    <tr>
      <td>
        <a href={tenantPath(props.tenantId, `webhooks/${e.id}`)}>{e.url}</a>
        {e.description ? <div class="hint">{e.description}</div> : null}
      </td>
      <td>{e.events.join(", ")}</td>
      <td>
        <StatusBadge endpoint={e} />
      </td>
    </tr>
  );
}

/** URL, events (one per line) and description: the fields of creating and of editing an endpoint. */
export function EndpointFields(props: { endpoint?: WebhookEndpoint }) {
  const e = props.endpoint;
  const prefix = e ? `edit-${e.id}` : "new-endpoint";
  return (
    <>
      <label for={`${prefix}-url`}>
        URL
        <input id={`${prefix}-url`} name="url" type="url" required value={e?.url} placeholder="https://" />
      </label>
      <label for={`${prefix}-events`}>
        Events, one per line
        <textarea
          id={`${prefix}-events`}
          name="events"
          data-type="lines"
          rows={4}
          required
          aria-describedby={`${prefix}-events-hint`}
        >
          {(e?.events ?? ["lead.created", "escalation.created"]).join("\n")}
        </textarea>
        <span class="hint" id={`${prefix}-events-hint`}>
          {`Any of: ${OUTBOUND_EVENT_TYPES.join(", ")}`}
        </span>
      </label>
      <label for={`${prefix}-description`}>
        Description (optional)
        <input id={`${prefix}-description`} name="description" value={e?.description ?? undefined} />
      </label>
    </>
  );
}
