import { randomUUID } from "node:crypto";
import { insertApiKey } from "../../service/src/db/api-keys";
import type { Sql } from "../../service/src/db/client";
import { settleDelivery } from "../../service/src/db/event-deliveries";
import { recordEvent } from "../../service/src/db/outbound-events";
import { insertEndpoint } from "../../service/src/db/webhook-endpoints";
import { newApiKey } from "../../service/src/domain/api-key";

/** A tenant's rows of signed webhooks out and API keys (run in its scope by seedTenant). */
export interface WebhookSeed {
  webhookEndpointId: string;
  outboundEventId: string;
  eventDeliveryId: string;
  /** The ordering key of the seeded event. */
  eventOrderingKey: string;
  apiKeyId: string;
  apiKeyHash: string;
}

export async function seedWebhooks(sql: Sql, marker: string): Promise<WebhookSeed> {
  const endpoint = await insertEndpoint(sql, {
    id: randomUUID(),
    url: `https://${marker}.example.com/hooks`,
    description: `${marker} crm`,
    events: ["lead.created", "lead.updated"],
    secretName: `db:${marker}-webhook-secret`,
  });
  const outboundEventId = `msg_${marker}_${randomUUID().replaceAll("-", "")}`;
  const eventOrderingKey = `${marker}-contact`;
  const [delivery] = await recordEvent(sql, {
    id: outboundEventId,
    type: "lead.created",
    orderingKey: eventOrderingKey,
    payload: { type: "lead.created", timestamp: new Date().toISOString(), data: { marker } },
  });
  const now = new Date();
  await settleDelivery(sql, delivery?.id as string, now, {
    delivered: false,
    statusCode: 500,
    error: `${marker} failed`,
    durationMs: 5,
    retryAt: new Date(now.getTime() + 3_600_000),
  });
  const key = newApiKey();
  const apiKey = await insertApiKey(sql, {
    name: `${marker} zap`,
    role: "tenant_admin",
    prefix: key.prefix,
    hash: key.hash,
    createdBy: `${marker}-admin`,
  });
  return {
    webhookEndpointId: endpoint.id,
    outboundEventId,
    eventDeliveryId: delivery?.id as string,
    eventOrderingKey,
    apiKeyId: apiKey.id,
    apiKeyHash: key.hash,
  };
}
