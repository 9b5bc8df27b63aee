import { expect } from "vitest";
import * as apiKeys from "../../service/src/db/api-keys";
import * as deliveries from "../../service/src/db/event-deliveries";
import * as events from "../../service/src/db/outbound-events";
import * as endpoints from "../../service/src/db/webhook-endpoints";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The isolation cases of signed webhooks out and API keys (run like tenant-repository-cases.ts: inside
 * tenant A's scope with B's ids).
 */

const nothing = (result: unknown) => expect(result).toBeUndefined();
const ids = (r: unknown) => (r as { id: string }[]).map((x) => x.id);
const later = () => new Date(Date.now() + 3 * 3_600_000);

export const WEBHOOK_CASES: Record<string, IsolationCase> = {
  "webhook-endpoints.insertEndpoint": {
    run: ({ sql, b }) =>
      endpoints.insertEndpoint(sql, {
        id: b.webhookEndpointId,
        url: "https://alpha.example.com/x",
        description: null,
        events: ["lead.created"],
        secretName: "db:alpha",
      }),
    mayRefuse: "the id is B's endpoint's (a primary key across tenants)",
  },
  "webhook-endpoints.listEndpoints": {
    run: ({ sql }) => endpoints.listEndpoints(sql),
    check: (r, { a }) => expect(ids(r)).toEqual([a.webhookEndpointId]),
  },
  "webhook-endpoints.findEndpoint": {
    run: ({ sql, b }) => endpoints.findEndpoint(sql, b.webhookEndpointId),
    check: nothing,
  },
  "webhook-endpoints.updateEndpoint": {
    run: ({ sql, b }) =>
      endpoints.updateEndpoint(sql, b.webhookEndpointId, {
        enable: true,
        description: "alpha",
        events: ["call.completed"],
      }),
    check: nothing,
  },
  "webhook-endpoints.deleteEndpoint": {
    run: ({ sql, b }) => endpoints.deleteEndpoint(sql, b.webhookEndpointId),
    check: nothing,
  },
  "webhook-endpoints.disableEndpoint": {
    run: ({ sql, b }) => endpoints.disableEndpoint(sql, b.webhookEndpointId, "alpha"),
    check: nothing,
  },
  "outbound-events.recordEvent": {
    // Delivered to A's subscribed endpoint only: none of B's endpoints gets A's event.
    run: ({ sql }) =>
      events.recordEvent(sql, {
        id: `msg_alpha_${Date.now()}`,
        type: "lead.created",
        orderingKey: null,
        payload: { type: "lead.created", timestamp: "", data: {} },
      }),
    check: async (r, ctx) => {
      expect((r as unknown[]).length).toBe(1);
      expect(await ctx.countOfA("event_deliveries", `id = '${ids(r)[0]}'`)).toBe(1);
    },
  },
  "outbound-events.recordTestEvent": {
    run: ({ sql, b }) =>
      events.recordTestEvent(sql, b.webhookEndpointId, {
        id: `msg_alpha_test_${Date.now()}`,
        type: "webhook.test",
        orderingKey: null,
        payload: {},
      }),
    check: nothing,
  },
  "event-deliveries.claimDelivery": {
    run: ({ sql, b }) => deliveries.claimDelivery(sql, b.eventDeliveryId, later(), 60_000),
    check: nothing,
  },
  "event-deliveries.settleDelivery": {
    run: ({ sql, b }) =>
      deliveries.settleDelivery(sql, b.eventDeliveryId, new Date(), {
        delivered: true,
        statusCode: 200,
        error: null,
        durationMs: 1,
        retryAt: null,
      }),
    check: nothing,
  },
  "event-deliveries.holdDelivery": {
    run: ({ sql, b }) => deliveries.holdDelivery(sql, b.eventDeliveryId, later()),
  },
  "event-deliveries.nextInLine": {
    run: ({ sql, b }) => deliveries.nextInLine(sql, b.webhookEndpointId, b.eventOrderingKey, new Date()),
    check: nothing,
  },
  "event-deliveries.duePending": {
    run: ({ sql, b }) => deliveries.duePending(sql, b.webhookEndpointId, new Date(), 100),
    check: (r) => expect(r).toEqual([]),
  },
  "outbound-events.forgetEventsOf": {
    run: ({ sql, b }) => events.forgetEventsOf(sql, b.eventOrderingKey),
    check: (r) => expect(r).toBe(0),
  },
  "event-deliveries.listDeliveries": {
    run: ({ sql, b }) => deliveries.listDeliveries(sql, b.webhookEndpointId, { limit: 50 }),
    check: (r) => expect(r).toEqual([]),
  },
  "event-deliveries.replayDelivery": {
    run: ({ sql, b }) => deliveries.replayDelivery(sql, b.webhookEndpointId, b.eventDeliveryId, new Date()),
    check: nothing,
  },
  "api-keys.insertApiKey": {
    run: ({ sql, b }) =>
      apiKeys.insertApiKey(sql, {
        name: "alpha",
        role: "agent",
        prefix: "sbk_x",
        hash: b.apiKeyHash,
        createdBy: "alpha",
      }),
    mayRefuse: "the hash is B's key's (unique across tenants)",
  },
  "api-keys.listApiKeys": {
    run: ({ sql }) => apiKeys.listApiKeys(sql),
    check: (r, { a }) => expect(ids(r)).toEqual([a.apiKeyId]),
  },
  "api-keys.revokeApiKey": {
    run: ({ sql, b }) => apiKeys.revokeApiKey(sql, b.apiKeyId),
    check: nothing,
  },
};
