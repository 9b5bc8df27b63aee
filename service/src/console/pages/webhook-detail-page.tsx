import type { Context } from "hono";
import { type DeliveryLogEntry, listDeliveries } from "../../db/event-deliveries";
import { inTenant } from "../../db/tenant-scope";
import { findEndpoint, type WebhookEndpoint } from "../../db/webhook-endpoints";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { ApiForm, adminApi, ShownOnce, When } from "./admin-parts";
import { EndpointFields, StatusBadge } from "./webhooks-page";

const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** GET /console/t/:tenantId/webhooks/:endpointId: one endpoint, its actions and its delivery log. */
export async function webhookDetailPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const endpointId = c.req.param("endpointId") ?? "";
  const before = c.req.query("before");
  const beforeSeq = before && /^\d{1,19}$/.test(before) ? before : undefined;
  const found = UUID.test(endpointId)
    ? await inTenant(tenant.id, async () => {
        const endpoint = await findEndpoint(sql, endpointId);
        return (
          endpoint && { endpoint, log: await listDeliveries(sql, endpointId, { beforeSeq, limit: PAGE }) }
        );
      })
    : undefined;
  if (!found) throw new AppError(404, "not_found", "No such webhook endpoint");
  const { endpoint, log } = found;
  const last = log.length === PAGE ? log[log.length - 1]?.seq : undefined;
  return c.html(
    <Page c={c} title="Webhook endpoint" tenant={{ id: tenant.id, name: tenant.name }} section="webhooks">
      <p>
        <a href={tenantPath(tenant.id, "webhooks")}>All endpoints</a>
      </p>
      <section class="card" aria-labelledby="endpoint-url">
        <h2 id="endpoint-url">{endpoint.url}</h2>
        <p>
          <StatusBadge endpoint={endpoint} />
        </p>
        <EndpointActions tenantId={tenant.id} endpoint={endpoint} />
      </section>
      <h2>Deliveries</h2>
      <DeliveryLog tenantId={tenant.id} endpointId={endpoint.id} log={log} />
      {last ? (
        <nav class="pager" aria-label="Deliveries pages">
          <a href={`?before=${last}`}>Older deliveries</a>
        </nav>
      ) : null}
    </Page>,
  );
}

function EndpointActions(props: { tenantId: string; endpoint: WebhookEndpoint }) {
  const e = props.endpoint;
  const path = adminApi(props.tenantId, `webhook-endpoints/${e.id}`);
  const disabled = e.status === "disabled";
  return (
    <>
      <div class="stack-on-phone">
        <ApiForm api={`POST ${path}/test`} label="Send a test event" class="inline" next="reload">
          <button type="submit">Send test event</button>
        </ApiForm>
        <ApiForm
          api={`PATCH ${path}`}
          label={disabled ? "Enable the endpoint" : "Disable the endpoint"}
          class="inline"
          next="reload"
        >
          <input type="hidden" name="enabled" value={disabled ? "true" : "false"} data-type="json" />
          <button type="submit" class="secondary">
            {disabled ? "Enable" : "Disable"}
          </button>
        </ApiForm>
        <ApiForm
          api={`POST ${path}/rotate-secret`}
          label="Rotate the signing secret"
          class="inline"
          confirm="The current secret stops signing at once. Rotate?"
          result="rotated-secret"
          show="secret"
        >
          <button type="submit" class="secondary">
            Rotate secret
          </button>
        </ApiForm>
        <ApiForm
          api={`DELETE ${path}`}
          label="Delete the endpoint"
          class="inline"
          confirm="Delete this endpoint, its secret and its delivery log?"
          next={tenantPath(props.tenantId, "webhooks")}
        >
          <button type="submit" class="danger">
            Delete
          </button>
        </ApiForm>
      </div>
      <ShownOnce id="rotated-secret" label="The new signing secret." />
      <details>
        <summary>Edit URL, events and description</summary>
        <ApiForm api={`PATCH ${path}`} label="Edit the endpoint" next="reload">
          <EndpointFields endpoint={e} />
          <button type="submit">Save</button>
        </ApiForm>
      </details>
    </>
  );
}

function DeliveryLog(props: { tenantId: string; endpointId: string; log: DeliveryLogEntry[] }) {
  if (props.log.length === 0)
    return <p class="muted">Nothing sent yet. Send a test event to try the endpoint.</p>;
  const path = adminApi(props.tenantId, `webhook-endpoints/${props.endpointId}/deliveries`);
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">Response</th>
            <th scope="col">Created</th>
            <th scope="col">Replay</th>
          </tr>
        </thead>
        <tbody>
          {props.log.map((d) => (
            <tr data-delivery={d.id}>
              <td>{d.eventType}</td>
              <td>
                <span
                  class={`badge ${d.status === "delivered" ? "ok" : d.status === "failed" ? "danger" : "warn"}`}
                >
                  {d.status}
                </span>
              </td>
              <td class="num">{d.attempts}</td>
              <td>{d.lastStatus ?? d.lastError ?? "—"}</td>
              <td>
                <When at={d.createdAt} />
              </td>
              <td>
                <ApiForm
                  api={`POST ${path}/${d.id}/replay`}
                  label={`Replay ${d.eventType}`}
                  class="inline"
                  next="reload"
                >
                  <button type="submit" class="secondary">
                    Replay
                  </button>
                </ApiForm>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
