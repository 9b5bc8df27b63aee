import type { Config } from "../config";
import type { Sql } from "../db/client";
import { inTenant } from "../db/tenant-scope";
import type { TenantMailers } from "../engine/notifications";
import type { Logger } from "../logger";
import type { SecretStore } from "../ports/secret-store";
import { buildContacts } from "./contacts";
import { buildEscalations, type EscalationParts } from "./escalations";
import type { ModelStack } from "./model-stack";
import type { Tasks } from "./tasks";
import { buildWebhooksOut } from "./webhooks-out";

/**
 * What follows a conversation up after the bot: signed webhooks out (the OutboundEvents every other part
 * records its events with), contacts and leads (the voice channel's CallInsights), and escalations with
 * their notifications to the tenant's team (which also hear of a webhook endpoint disabled by its circuit).
 */
export function buildFollowUp(
  config: Config,
  deps: {
    sql: Sql;
    log: Logger;
    tasks: Tasks;
    secretStore: SecretStore;
    models: ModelStack;
    /** Tenants' connected mailboxes, which their team's notification e-mail goes through (compose/email.ts). */
    tenantMailers?: TenantMailers | undefined;
  },
) {
  const { sql, log, tasks, secretStore, models } = deps;
  // Escalations record their events through the webhooks, so they are built after them; the webhooks'
  // circuit reaches the team through this reference once they exist.
  let team: EscalationParts["escalations"] | undefined;
  const webhooks = buildWebhooksOut(config, {
    sql,
    log,
    tasks,
    secretStore,
    onEndpointDisabled: (e) =>
      inTenant(e.tenantId, async () => {
        await team?.notifyTeam("endpoint.disabled", {
          endpointId: e.endpointId,
          host: e.host,
          reason: e.reason,
          ...(e.description ? { description: e.description } : {}),
        });
      }),
  });
  const events = webhooks.events;
  const contacts = buildContacts(config, { sql, log, models, sweeps: tasks.sweeps, events });
  const escalation = buildEscalations(config, {
    sql,
    log,
    tasks,
    secretStore,
    tenants: models.tenants,
    events,
    tenantMailers: deps.tenantMailers,
  });
  team = escalation.escalations;
  return { webhooks, events, contacts, escalation };
}
