import type { Context } from "hono";
import { type ApiKey, listApiKeys } from "../../db/api-keys";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { ApiForm, adminApi, ShownOnce, When } from "./admin-parts";

/** GET /console/t/:tenantId/api-keys: keys of the tenant's automations (only their prefix is ever shown). */
export async function apiKeysPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const keys = await inTenant(tenant.id, () => listApiKeys(sql));
  return c.html(
    <Page c={c} title="API keys" tenant={{ id: tenant.id, name: tenant.name }} section="api-keys">
      {keys.length === 0 ? (
        <p class="card">No API key yet. An automation (Zapier, a CRM) calls the admin API with one.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">Keys are sent as “Authorization: Bearer sbk_…”</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Starts with</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <KeyRow tenantId={tenant.id} apiKey={k} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Create a key</h2>
      <ApiForm
        api={`POST ${adminApi(tenant.id, "api-keys")}`}
        label="Create an API key"
        result="new-api-key"
        show="key"
      >
        <label for="key-name">
          Name
          <input id="key-name" name="name" required maxlength={100} placeholder="Zapier: new leads" />
        </label>
        <label for="key-role">
          Role
          <select id="key-role" name="role">
            <option value="agent">Agent</option>
            <option value="tenant_admin">Tenant admin</option>
          </select>
        </label>
        <button type="submit">Create key</button>
      </ApiForm>
      <ShownOnce id="new-api-key" label="The new key.">
        <a href={tenantPath(tenant.id, "api-keys")}>Done</a>
      </ShownOnce>
    </Page>,
  );
}

function KeyRow(props: { tenantId: string; apiKey: ApiKey }) {
  const k = props.apiKey;
  return (
    <tr>
      <td>{k.name}</td>
      <td>
        <code>{`${k.prefix}…`}</code>
      </td>
      <td>{k.role === "tenant_admin" ? "Tenant admin" : "Agent"}</td>
      <td>
        <When at={k.createdAt} />
        <div class="hint">{k.createdBy}</div>
      </td>
      <td>
        <When at={k.lastUsedAt} none="never" />
      </td>
      <td>
        {k.revokedAt ? (
          <span class="badge danger">
            Revoked <When at={k.revokedAt} />
          </span>
        ) : (
          <ApiForm
            api={`DELETE ${adminApi(props.tenantId, `api-keys/${k.id}`)}`}
            label={`Revoke ${k.name}`}
            class="inline"
            confirm={`Revoke “${k.name}”? Requests with it are refused from now on.`}
            next="reload"
          >
            <button type="submit" class="danger">
              Revoke
            </button>
          </ApiForm>
        )}
      </td>
    </tr>
  );
}
