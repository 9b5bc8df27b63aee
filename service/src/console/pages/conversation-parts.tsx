import type { ConversationStatus } from "../../db/conversations";
import type { TimelineEntry } from "../../db/timeline";
import { tenantPath } from "../layout";

/**
 * Pieces the conversation, contact and lead pages share. Every text here is customer, model or agent text
 * passed to JSX as a child or attribute, which escapes it: nothing is ever markup.
 */

/** The channels a conversation can come through, as the filters offer them. */
export const CHANNELS: readonly { value: string; label: string }[] = [
  { value: "web", label: "Web chat" },
  { value: "sms", label: "SMS" },
  { value: "email", label: "E-mail" },
  { value: "intercom", label: "Intercom" },
  { value: "voice", label: "Voice" },
];

export const channelLabel = (channel: string) => CHANNELS.find((c) => c.value === channel)?.label ?? channel;

/** A time as people read it (UTC, to the minute), with the exact instant for machines. */
export function When(props: { at: Date | string | null }) {
  if (!props.at) return <span class="muted">—</span>;
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

const STATUS_BADGE: Record<ConversationStatus, string> = {
  open: "badge",
  escalated: "badge warn",
  resolved: "badge ok",
};

export function StatusBadge(props: { status: ConversationStatus }) {
  return <span class={STATUS_BADGE[props.status]}>{props.status}</span>;
}

/** Who a contact is, by the best handle known. */
export function contactLabel(c: {
  contactName?: string | null;
  contactEmail?: string | null;
  contactPhone?: string | null;
}): string | null {
  return c.contactName || c.contactEmail || c.contactPhone || null;
}

/** Messages' roles as the people reading them say it. */
export function authorLabel(author: string): string {
  if (author === "user") return "Customer";
  if (author === "assistant") return "Assistant";
  if (author === "agent") return "Agent";
  return author;
}

const authorClass = (author: string) =>
  author === "user" ? "customer" : author === "assistant" ? "assistant" : "agent";

/** A long text cut for a list cell. */
export const excerpt = (text: string | null, max = 140) =>
  !text ? "" : text.length > max ? `${text.slice(0, max - 1)}…` : text;

/**
 * The merged timeline: each entry labelled with its channel and author; entries of another conversation
 * of the same person link to it; escalations inline, with who took and resolved them.
 */
export function Timeline(props: {
  tenantId: string;
  entries: TimelineEntry[];
  current?: string | undefined;
}) {
  if (props.entries.length === 0) return <p class="muted">Nothing was said in this conversation yet.</p>;
  return (
    <ol class="timeline" aria-label="Timeline">
      {props.entries.map((e) =>
        e.kind === "escalation" ? (
          <EscalationEntry entry={e} />
        ) : (
          <li class={authorClass(e.author)} data-channel={e.channel}>
            <div class="meta">
              <strong>{authorLabel(e.author)}</strong> · {channelLabel(e.channel)}
              {e.kind === "call" ? " (call transcript)" : ""} · <When at={e.at} />
              {e.sessionId && e.sessionId !== props.current ? (
                <>
                  {" · "}
                  <a href={tenantPath(props.tenantId, `conversations/${e.sessionId}`)}>other conversation</a>
                </>
              ) : null}
            </div>
            <div class="body">{e.text}</div>
          </li>
        ),
      )}
    </ol>
  );
}

function EscalationEntry(props: { entry: TimelineEntry }) {
  const e = props.entry;
  return (
    <li class="escalation" data-channel={e.channel}>
      <div class="meta">
        <strong>Escalated</strong> · {channelLabel(e.channel)} · <When at={e.at} /> ·{" "}
        <span class={e.author === "resolved" ? "badge ok" : "badge warn"}>{e.author}</span>
      </div>
      <div class="body">
        Reason: {e.text}
        {e.summary ? `\n${e.summary}` : ""}
        {e.claimedBy ? `\nClaimed by ${e.claimedBy}` : ""}
        {e.resolvedBy ? `\nResolved by ${e.resolvedBy}` : ""}
      </div>
    </li>
  );
}
