import type { ConnectedChannels, QueuedChannel, QueuedChannelName, TenantChannel } from "../pipeline/channel";

export interface EmailConnectionsDeps {
  /**
   * The e-mail channel answering one tenant's threads, with that tenant's settings read once per task (a
   * settings change applies from the next message on).
   */
  channel(tenantId: string): Promise<QueuedChannel<unknown>>;
}

/**
 * Tenants' Gmail mailboxes (channel connections of kind `gmail`). Pushes name a mailbox's address, not a
 * connection's path, so webhooks never find a channel here (the sync worker routes by address); a task
 * finds its tenant's e-mail channel, which opens the mailbox its conversation names (and answers nothing
 * from one that is gone or disconnected).
 */
export class EmailConnections implements ConnectedChannels {
  readonly names: readonly QueuedChannelName[] = ["email"];

  constructor(private readonly deps: EmailConnectionsDeps) {}

  /** Gmail pushes are routed by address, never by a connection's own path. */
  async byConnection(): Promise<TenantChannel | undefined> {
    return undefined;
  }

  async ofTenant(name: QueuedChannelName, tenantId: string): Promise<QueuedChannel<unknown> | undefined> {
    if (name !== "email") return undefined;
    return this.deps.channel(tenantId);
  }
}
