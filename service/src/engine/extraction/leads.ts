import type { Sql } from "../../db/client";
import { findContact, type MergedContact } from "../../db/contacts";
import { type LeadRow, type LeadStatus, setLeadStatus, upsertOpenLead } from "../../db/leads";
import type { TenantSettings } from "../../domain/tenant";
import type { DispatchAfterCommit, Extraction, ExtractionIntent, OutboundEvents } from "../follow-up";

/** What makes a lead unless the tenant's settings say otherwise (`leads.intents`). */
export const DEFAULT_LEAD_INTENTS: readonly ExtractionIntent[] = ["purchase", "booking"];

export function leadIntents(settings: TenantSettings | undefined): readonly ExtractionIntent[] {
  return settings?.leads?.intents ?? DEFAULT_LEAD_INTENTS;
}

export interface LeadSource {
  channel: string;
  kind: "call" | "session";
  id: string;
}

/** The event's `data`: the lead and the contact it is about, as a CRM would file them. */
export function leadEventData(
  lead: LeadRow,
  contact: Pick<MergedContact, "id" | "name" | "email" | "phone" | "company">,
) {
  return {
    lead: {
      id: lead.id,
      status: lead.status,
      intent: lead.intent,
      urgency: lead.urgency,
      summary: lead.summary,
      followUps: lead.followUps,
      source: { channel: lead.sourceChannel, kind: lead.sourceKind, id: lead.sourceId },
      createdAt: new Date(lead.createdAt).toISOString(),
      updatedAt: new Date(lead.updatedAt).toISOString(),
    },
    contact: {
      id: contact.id,
      name: contact.name,
      email: contact.email,
      phone: contact.phone,
      company: contact.company,
    },
  };
}

/**
 * Creates or updates the contact's open lead and records `lead.created` / `lead.updated` with `tx` (the
 * transaction of the change: both commit or neither), ordered by the contact so a CRM sees them in order.
 */
export async function recordLead(
  tx: Sql,
  events: OutboundEvents,
  input: { contact: MergedContact; extraction: Extraction; source: LeadSource },
): Promise<{ lead: LeadRow; dispatch: DispatchAfterCommit }> {
  const { contact, extraction, source } = input;
  const lead = await upsertOpenLead(tx, {
    contactId: contact.id,
    intent: extraction.intent,
    urgency: extraction.urgency,
    summary: extraction.summary,
    followUps: extraction.followUps,
    sourceChannel: source.channel,
    sourceKind: source.kind,
    sourceId: source.id,
  });
  const dispatch = await events.record(tx, {
    type: lead.created ? "lead.created" : "lead.updated",
    orderingKey: contact.id,
    data: leadEventData(lead, contact),
  });
  return { lead, dispatch };
}

/** A lead reopened while its contact has another open lead: one open lead per contact. */
export class LeadConflict extends Error {
  constructor() {
    super("the contact has another open lead");
    this.name = "LeadConflict";
  }
}

/**
 * A person's decision on a lead (contacted, qualified, won, lost), with its `lead.updated` event recorded
 * in the same transaction and dispatched after. Undefined when the tenant has no such lead.
 */
export async function changeLeadStatus(
  deps: { sql: Sql; events: OutboundEvents },
  leadId: string,
  status: LeadStatus,
): Promise<LeadRow | undefined> {
  let dispatch: DispatchAfterCommit | undefined;
  let lead: LeadRow | undefined;
  try {
    lead = (await deps.sql.begin(async (tx) => {
      const scoped = tx as unknown as Sql;
      const changed = await setLeadStatus(scoped, leadId, status);
      const contact = changed ? await findContact(scoped, changed.contactId) : undefined;
      if (!(changed && contact)) return undefined;
      dispatch = await deps.events.record(scoped, {
        type: "lead.updated",
        orderingKey: contact.id,
        data: leadEventData(changed, contact),
      });
      return changed;
    })) as LeadRow | undefined;
  } catch (error) {
    if ((error as { code?: string }).code === "23505") throw new LeadConflict();
    throw error;
  }
  await dispatch?.();
  return lead;
}
