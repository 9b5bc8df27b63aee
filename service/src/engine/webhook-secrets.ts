import { randomBytes } from "node:crypto";
import type { SecretRef, SecretStore } from "../ports/secret-store";

/** A new endpoint signing secret: `whsec_` and 24 random bytes in base64, as Standard Webhooks writes them. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

/** The secret store's kind of an endpoint's secret (one secret per endpoint). */
export const webhookSecretKind = (endpointId: string) => `webhook-${endpointId}`;

/**
 * Endpoint secrets read through a short cache: a burst of deliveries to one endpoint (a backlog after an
 * outage) reads Secret Manager once, not once per delivery. A rotation here forgets its entry at once;
 * other instances sign with the old secret until their entry expires (`ttlMs`).
 */
export class WebhookSecretCache {
  private readonly entries = new Map<SecretRef, { value: string; until: number }>();

  constructor(
    private readonly store: SecretStore,
    private readonly ttlMs = 30_000,
  ) {}

  async get(ref: SecretRef): Promise<string> {
    const now = Date.now();
    const hit = this.entries.get(ref);
    if (hit && hit.until > now) return hit.value;
    const value = await this.store.get(ref);
    this.entries.set(ref, { value, until: now + this.ttlMs });
    return value;
  }

  forget(ref: SecretRef): void {
    this.entries.delete(ref);
  }
}
