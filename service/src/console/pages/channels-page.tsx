import type { Context } from "hono";
import { lastInboundByChannel } from "../../db/channel-traffic";
import { listChannels } from "../../db/channels";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { CHANNEL_KINDS } from "../../routes/admin/channel-kinds";
import { channelView } from "../../routes/admin/channel-view";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page } from "../layout";
import { ApiForm, adminApi, ShownOnce, When } from "./admin-parts";
import { AddChannelForms, ConnectGmail } from "./channel-forms";

type View = ReturnType<typeof channelView>;

/** GET /console/t/:tenantId/channels: the connections, the URL to paste into each provider, and traffic. */
export async function channelsPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  // The provider posts to the public URL; without one configured, to the address this page was opened at.
  const base = deps.admin.publicUrl ?? new URL(c.req.url).origin;
  const { channels, traffic } = await inTenant(tenant.id, async () => ({
    channels: await listChannels(sql),
    traffic: await lastInboundByChannel(sql),
  }));
  return c.html(
    <Page c={c} title="Channels" tenant={{ id: tenant.id, name: tenant.name }} section="channels">
      {channels.length === 0 ? (
        <p class="card">No channel is connected yet: add a number, a mailbox or Intercom below.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">
              Connections, the webhook URL to paste, and the last message received
            </caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Number, mailbox or app</th>
                <th scope="col">Webhook URL to paste</th>
                <th scope="col">Traffic</th>
              </tr>
            </thead>
            <tbody>
              {channels.map((ch) => (
                <ChannelRow view={channelView(ch, base)} last={traffic.get(ch.id)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {channels.map((ch) => (
        <ChannelActions tenantId={tenant.id} view={channelView(ch, base)} />
      ))}
      <h2>Add a channel</h2>
      <AddChannelForms tenantId={tenant.id} />
      <ConnectGmail tenantId={tenant.id} configured={deps.admin.email?.configured === true} />
    </Page>,
  );
}

function ChannelRow(props: { view: View; last: Date | undefined }) {
  const { view } = props;
  return (
    <tr data-channel={view.id}>
      <td>{view.kind}</td>
      <td>{view.publicId}</td>
      <td>
        {view.webhookUrl ? <code>{view.webhookUrl}</code> : <span class="muted">none needed</span>}
        {view.voice ? (
          <div class="hint">
            Voice events: <code>{view.voice.eventsUrl}</code>
          </div>
        ) : null}
      </td>
      <td>
        {props.last ? (
          <span class="badge ok">
            Traffic arrived <When at={props.last} />
          </span>
        ) : (
          <span class="badge warn">No traffic yet</span>
        )}
      </td>
    </tr>
  );
}

/** Rotate a credential (write-only), re-issue a voice token (shown once), disconnect. */
function ChannelActions(props: { tenantId: string; view: View }) {
  const { view, tenantId } = props;
  const path = adminApi(tenantId, `channels/${view.id}`);
  const generated = Object.keys(CHANNEL_KINDS[view.kind]?.generated ?? {});
  const rotatable = Object.keys(view.credentials).filter((name) => !generated.includes(name));
  const label = `${view.kind} ${view.publicId}`;
  return (
    <details class="card">
      <summary>{`Manage ${label}`}</summary>
      {rotatable.length > 0 ? (
        <ApiForm api={`PUT ${path}/credentials`} label={`Rotate credentials of ${label}`} next="reload">
          <p class="hint">Fill in only the credentials to replace; the earlier values are destroyed.</p>
          {rotatable.map((name) => (
            <label for={`${view.id}-${name}`}>
              {`New ${name}`}
              <input id={`${view.id}-${name}`} name={name} type="password" autocomplete="new-password" />
            </label>
          ))}
          <button type="submit" class="secondary">
            Rotate credentials
          </button>
        </ApiForm>
      ) : null}
      {generated.length > 0 ? (
        <>
          <ApiForm
            api={`POST ${path}/voice-token`}
            label={`Re-issue the voice token of ${label}`}
            confirm="The assistant's current dynamic-variables URL stops working. Re-issue?"
            result={`${view.id}-voice`}
          >
            <button type="submit" class="secondary">
              Re-issue voice token
            </button>
          </ApiForm>
          <ShownOnce id={`${view.id}-voice`} label="The new URLs." />
        </>
      ) : null}
      <ApiForm
        api={`DELETE ${path}`}
        label={`Disconnect ${label}`}
        class="inline"
        confirm={`Disconnect ${label} and destroy its credentials?`}
        next="reload"
      >
        <button type="submit" class="danger">
          Disconnect
        </button>
      </ApiForm>
    </details>
  );
}
