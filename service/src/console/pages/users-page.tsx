import type { Context } from "hono";
import { inTenant } from "../../db/tenant-scope";
import { listTenantUsers, type TenantUser } from "../../db/tenant-users";
import type { AppEnv } from "../../http/app-env";
import { ADMIN_ROLES, consoleTenant, viewerOf } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page } from "../layout";
import { principalOf } from "../session";
import { ApiForm, adminApi, When } from "./admin-parts";

const ROLES = [
  { value: "agent", label: "Agent" },
  { value: "tenant_admin", label: "Tenant admin" },
] as const;

/** GET /console/t/:tenantId/users: the tenant's people, their roles, and adding one by e-mail. */
export async function usersPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const users = await inTenant(tenant.id, () => listTenantUsers(sql));
  // The API refuses a person removing or demoting themselves; the page does not offer it either.
  const me = principalOf(viewerOf(c), tenant.id).subject;
  return c.html(
    <Page c={c} title="Users" tenant={{ id: tenant.id, name: tenant.name }} section="users">
      <div class="table-wrap">
        <table>
          <caption class="muted">People who may use the console and the admin API for this tenant</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Role</th>
              <th scope="col">Added</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <UserRow tenantId={tenant.id} user={u} self={u.subject === me} />
            ))}
          </tbody>
        </table>
      </div>
      <h2>Add a person</h2>
      <ApiForm api={`POST ${adminApi(tenant.id, "users")}`} label="Add a person" next="reload">
        <p class="hint">
          They sign in with this address through your identity provider (it must be verified there).
        </p>
        <label for="new-user-email">
          E-mail address
          <input id="new-user-email" name="email" type="email" required autocomplete="off" />
        </label>
        <RoleSelect id="new-user-role" value="agent" />
        <button type="submit">Add</button>
      </ApiForm>
    </Page>,
  );
}

function RoleSelect(props: { id: string; value: string; label?: string }) {
  return (
    <label for={props.id}>
      {props.label ?? "Role"}
      <select id={props.id} name="role">
        {ROLES.map((r) => (
          <option value={r.value} selected={r.value === props.value}>
            {r.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function UserRow(props: { tenantId: string; user: TenantUser; self: boolean }) {
  const { user } = props;
  const who = user.email ?? user.subject;
  const path = adminApi(props.tenantId, `users/${user.id}`);
  return (
    <tr>
      <td>
        {who}
        {user.email && !user.subject.startsWith("email:") ? <div class="hint">{user.subject}</div> : null}
      </td>
      <td>{ROLES.find((r) => r.value === user.role)?.label ?? user.role}</td>
      <td>
        <When at={user.createdAt} />
      </td>
      <td>
        {props.self ? (
          <span class="muted">You</span>
        ) : (
          <div class="stack-on-phone">
            <ApiForm api={`PATCH ${path}`} label={`Change the role of ${who}`} class="inline" next="reload">
              <RoleSelect id={`role-${user.id}`} value={user.role} label={`Role of ${who}`} />
              <button type="submit" class="secondary">
                Change role
              </button>
            </ApiForm>
            <ApiForm
              api={`DELETE ${path}`}
              label={`Remove ${who}`}
              class="inline"
              confirm={`Remove ${who} from this tenant?`}
              next="reload"
            >
              <button type="submit" class="danger">
                Remove
              </button>
            </ApiForm>
          </div>
        )}
      </td>
    </tr>
  );
}
