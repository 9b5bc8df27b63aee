/** One signed POST of an event to an endpoint (adapters/webhook-sender.ts). */
export interface SignedDelivery {
  url: string;
  /** The endpoint's `whsec_…` secret. */
  secret: string;
  /** The event's id: the `webhook-id`, the same on every retry and replay. */
  messageId: string;
  body: string;
}

/** What the receiver answered: a status, or why there was none (timeout, refused, a forbidden address). */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookSender {
  send(delivery: SignedDelivery): Promise<SendResult>;
}
