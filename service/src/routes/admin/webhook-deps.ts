import type { TargetCheck } from "../../engine/webhook-targets";
import type { Logger } from "../../logger";
import type { SecretRef } from "../../ports/secret-store";
import type { TaskQueue } from "../../ports/task-queue";

/** What the webhook endpoint routes need beyond the admin API's own deps (compose/webhooks-out.ts). */
export interface WebhookAdminDeps {
  /** The deployment's rules for an endpoint URL (https, no private addresses in production). */
  checkTarget(url: string): Promise<TargetCheck>;
  /** Told when a secret is rotated or deleted, so this instance signs with the new one at once. */
  secretCache: { forget(ref: SecretRef): void };
  /** Replays and test events are dispatched on it. */
  queue: TaskQueue;
  log: Logger;
}
