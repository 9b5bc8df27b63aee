import { z } from "@hono/zod-openapi";
import { LEAD_STATUSES, type LeadRow } from "../../db/leads";

export const LeadSchema = z
  .object({
    id: z.uuid(),
    contactId: z.uuid(),
    status: z.enum(LEAD_STATUSES),
    intent: z.string(),
    urgency: z.string().nullable(),
    summary: z.string().nullable(),
    followUps: z.array(z.string()),
    source: z.object({
      channel: z.string(),
      kind: z.enum(["call", "session"]),
      id: z.string().openapi({ description: "The call's or the conversation's id" }),
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Lead");

export function leadView(l: LeadRow): z.infer<typeof LeadSchema> {
  return {
    id: l.id,
    contactId: l.contactId,
    status: l.status,
    intent: l.intent,
    urgency: l.urgency,
    summary: l.summary,
    followUps: l.followUps,
    source: { channel: l.sourceChannel, kind: l.sourceKind, id: l.sourceId },
    createdAt: new Date(l.createdAt).toISOString(),
    updatedAt: new Date(l.updatedAt).toISOString(),
  };
}
