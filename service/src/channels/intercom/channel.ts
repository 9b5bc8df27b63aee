import type { Sql } from "../../db/client";
import type { Tier } from "../../domain/identity";
import type { IntercomConversation, IntercomGateway } from "../../ports/intercom";
import type { QueuedChannel } from "../pipeline/channel";
import { type IntercomCatchUpSettings, intercomCatchUp } from "./catch-up";
import type { IntercomHandoffSettings } from "./handoff";
import { type ConnectionCheck, intercomParser } from "./parser";
import { IntercomPolicy } from "./policy";
import { IntercomSender } from "./sender";
import { intercomVerifier } from "./verifier";

export interface IntercomSettings {
  /** The bot's admin id: replies are posted as it, and its own parts never trigger a reply. */
  adminId: string;
  customerTier: Tier;
  handoff: IntercomHandoffSettings;
  catchUp: Omit<IntercomCatchUpSettings, "adminId">;
}

/**
 * Intercom as a channel of the inbound pipeline: HMAC-SHA1 webhooks (taken only when the client secret is
 * configured), notifications read into customer parts, replies and handoffs through the REST API, and the
 * catch-up search for what no webhook announced.
 */
export function intercomChannel(deps: {
  sql: Sql;
  gateway: IntercomGateway;
  settings: IntercomSettings;
  /** The Intercom app's client secret, which signs its webhooks. */
  webhookSecret: string | undefined;
  /** A tenant's connection (its own webhook path): its app and id, checked and namespaced when parsing. */
  connection?: ConnectionCheck;
}): QueuedChannel<IntercomConversation> {
  const { sql, gateway, settings, webhookSecret } = deps;
  const { adminId } = settings;
  return {
    name: "intercom",
    verifier: webhookSecret ? intercomVerifier(webhookSecret) : undefined,
    parser: intercomParser(adminId, deps.connection),
    sender: new IntercomSender({ gateway, adminId, handoff: settings.handoff }),
    policy: new IntercomPolicy({ adminId, customerTier: settings.customerTier }),
    catchUp: intercomCatchUp({ sql, gateway, settings: { ...settings.catchUp, adminId } }),
  };
}
