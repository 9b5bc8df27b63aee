import type { QueueEntry } from "../../db/escalation-queue";
import { tenantPath } from "../layout";

/**
 * The pieces of the escalation pages: the queue's table (also what the live update swaps in), a
 * customer's name as known, an age. Every text goes through JSX, so customer and model words stay text.
 */

const CHANNELS: Record<string, string> = {
  web: "Web chat",
  sms: "SMS",
  voice: "Phone call",
  email: "E-mail",
  intercom: "Intercom",
};

export const channelLabel = (channel: string) => CHANNELS[channel] ?? channel;

/** The customer as known: name, then phone, then e-mail; else the channel's conversation key. */
export function customerOf(e: QueueEntry): { name: string; detail: string | null } {
  const known = [e.contactName, e.contactPhone, e.contactEmail].filter((v): v is string => !!v);
  const [name, ...rest] = known;
  if (name) return { name, detail: rest.join(" · ") || null };
  return { name: e.channel === "web" ? "Web visitor" : e.conversationId, detail: null };
}

/** "12 min", "3 h", "2 d": how long ago, as a support lead reads a queue. */
export function ageOf(since: Date, now = new Date()): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - new Date(since).getTime()) / 60_000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}

/** Escalation and reply statuses as badges: waiting is amber, done is green, failed is red. */
const TONE: Record<string, string> = {
  open: "warn",
  pending: "warn",
  resolved: "ok",
  sent: "ok",
  failed: "danger",
};

export function StatusBadge(props: { status: string }) {
  return <span class={`badge ${TONE[props.status] ?? ""}`.trim()}>{props.status}</span>;
}

/** The queue's table; `viewer` is the signed-in person's actor id (their claims say "you"). */
export function QueueTable(props: { tenantId: string; entries: QueueEntry[]; viewer: string }) {
  if (props.entries.length === 0) return <p class="muted">No escalations here. The queue is clear.</p>;
  return (
    <div class="table-wrap">
      <table class="stack-on-phone">
        <caption class="muted">Open first, then claimed, oldest first; then recently resolved.</caption>
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col">Channel</th>
            <th scope="col">Reason</th>
            <th scope="col">Summary</th>
            <th scope="col">Waiting</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((e) => (
            <QueueRow tenantId={props.tenantId} entry={e} viewer={props.viewer} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function QueueRow(props: { tenantId: string; entry: QueueEntry; viewer: string }) {
  const e = props.entry;
  const customer = customerOf(e);
  const href = tenantPath(props.tenantId, `escalations/${e.id}`);
  return (
    <tr data-escalation={e.id}>
      <td>
        <a href={href}>{customer.name}</a>
        {customer.detail ? <div class="muted">{customer.detail}</div> : null}
      </td>
      <td>{channelLabel(e.channel)}</td>
      <td>{e.reason.replaceAll("_", " ")}</td>
      <td>{e.summary ?? <span class="muted">none yet</span>}</td>
      <td>
        <time datetime={new Date(e.createdAt).toISOString()}>{ageOf(e.createdAt)}</time>
      </td>
      <td>
        <StatusBadge status={e.status} />
        {e.claimedBy ? (
          <div class="muted">by {e.claimedBy === props.viewer ? "you" : e.claimedBy}</div>
        ) : null}
      </td>
      <td>
        <EscalationActions tenantId={props.tenantId} entry={e} label={customer.name} />
      </td>
    </tr>
  );
}

/** Claim (when open) and resolve (when unresolved): forms sent to the admin API by console.js. */
export function EscalationActions(props: { tenantId: string; entry: QueueEntry; label: string }) {
  const { entry } = props;
  if (entry.status === "resolved") return <span class="muted">resolved</span>;
  const api = `/api/v1/admin/tenants/${props.tenantId}/escalations/${entry.id}`;
  return (
    <div class="actions">
      {entry.status === "open" ? (
        <form class="inline" data-api={`POST ${api}/claim`} data-next="reload">
          <p role="alert" class="error" />
          <button type="submit" aria-label={`Claim the escalation of ${props.label}`}>
            Claim
          </button>
        </form>
      ) : null}
      <form
        class="inline"
        data-api={`POST ${api}/resolve`}
        data-next="reload"
        data-confirm="Resolve this escalation?"
      >
        <p role="alert" class="error" />
        <button type="submit" class="secondary" aria-label={`Resolve the escalation of ${props.label}`}>
          Resolve
        </button>
      </form>
    </div>
  );
}
