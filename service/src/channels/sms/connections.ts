import { findChannel } from "../../db/channels";
import type { Sql } from "../../db/client";
import {
  type ConnectionRoute,
  findConnectionByNumber,
  findConnectionRoute,
} from "../../db/platform-channels";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import type { SecretStore } from "../../ports/secret-store";
import { SMS_PROVIDERS, type SmsProvider, type SmsProviderClient } from "../../ports/sms";
import type { ConnectedChannels, QueuedChannel, QueuedChannelName, TenantChannel } from "../pipeline/channel";
import { readCredential, unlessCredentialsGone } from "../pipeline/credentials";
import type { SmsConnectionSecrets } from "./provider";
import type { SmsConnection } from "./view";

/** Where a webhook's number leads. */
export type NumberRoute =
  | { kind: "unknown" }
  /** Connected, but its tenant is suspended or the connection disabled: nothing is answered. */
  | { kind: "inactive"; tenantId: string; connectionId: string }
  | { kind: "found"; tenantId: string; connection: SmsConnectionSecrets };

export interface SmsConnectionsDeps {
  sql: Sql;
  secrets: SecretStore;
  log: Logger;
  /** A provider's official client for one connection (adapters/, composed in). */
  client(provider: SmsProvider, connection: SmsConnectionSecrets): Promise<SmsProviderClient>;
  /** The SMS channel of one tenant, replying through the connection each message arrived at. */
  channel(
    tenantId: string,
    connection: (id: string) => Promise<SmsConnection | undefined>,
  ): QueuedChannel<unknown> | Promise<QueuedChannel<unknown>>;
  /** The status callback URL of a provider's messages (PUBLIC_URL + its path), when the service has one. */
  statusCallbackUrl(provider: SmsProvider): string | undefined;
  /** How long a connection's credentials stay in memory before they are read again (default 60 s). */
  cacheSeconds?: number;
}

interface Built {
  secrets: SmsConnectionSecrets;
  client?: SmsProviderClient;
  at: number;
}

const isSmsProvider = (kind: string): kind is SmsProvider =>
  (SMS_PROVIDERS as readonly string[]).includes(kind);

/**
 * Tenants' phone numbers (admin API channel connections of kind twilio, telnyx or voxie). Webhooks share
 * one path per provider, so a webhook is routed by the number it names to the connection whose credentials
 * verify it; replies go out through the connection the message arrived at. Credentials are read from the
 * SecretStore (each read audited) and kept per connection for `cacheSeconds`; the connection row itself is
 * read every time, so a deleted or disabled number, or a suspended tenant, stops at once.
 */
export class SmsConnections implements ConnectedChannels {
  readonly names: readonly QueuedChannelName[] = ["sms"];
  private readonly built = new Map<string, Built>();

  constructor(private readonly deps: SmsConnectionsDeps) {}

  /** SMS webhooks are routed by number (`byNumber`), never by a connection's own path. */
  async byConnection(): Promise<TenantChannel | undefined> {
    return undefined;
  }

  async ofTenant(name: QueuedChannelName, tenantId: string): Promise<QueuedChannel<unknown> | undefined> {
    if (name !== "sms") return undefined;
    return this.deps.channel(tenantId, (id) => this.replyConnection(tenantId, id));
  }

  /** The connection a webhook's number names, with its credentials when it is active. */
  async byNumber(provider: SmsProvider, phoneNumber: string): Promise<NumberRoute> {
    return this.routeOf(await findConnectionByNumber(this.deps.sql, provider, phoneNumber));
  }

  /**
   * A connection named by id (a Telnyx voice event that names no number comes to a URL naming its
   * connection), routed exactly like `byNumber`; unknown when it is not of `provider`.
   */
  async byConnectionId(provider: SmsProvider, connectionId: string): Promise<NumberRoute> {
    const route = await findConnectionRoute(this.deps.sql, connectionId);
    return this.routeOf(route?.kind === provider ? route : undefined);
  }

  /**
   * The credentials of one of the tenant's active connections (the voice channel reads transcripts with a
   * Telnyx connection's API key), read in that tenant's scope; undefined when it is gone or disabled.
   */
  async secretsOf(tenantId: string, connectionId: string): Promise<SmsConnectionSecrets | undefined> {
    const row = await inTenant(tenantId, () => findChannel(this.deps.sql, connectionId));
    if (row?.status !== "active" || !isSmsProvider(row.kind)) return undefined;
    return (await this.credentialsOf({ ...row, tenantId }))?.secrets;
  }

  private async routeOf(route: ConnectionRoute | undefined): Promise<NumberRoute> {
    if (!route) return { kind: "unknown" };
    if (route.status !== "active" || route.tenantStatus !== "active") {
      this.built.delete(route.id);
      return { kind: "inactive", tenantId: route.tenantId, connectionId: route.id };
    }
    const built = await this.credentialsOf(route);
    if (!built) return { kind: "inactive", tenantId: route.tenantId, connectionId: route.id };
    return { kind: "found", tenantId: route.tenantId, connection: built.secrets };
  }

  /**
   * A signature that did not verify drops credentials cached for more than a few seconds, so a credential
   * rotated at the provider and then through the admin API is read again at the provider's retry.
   */
  refused(connectionId: string) {
    const entry = this.built.get(connectionId);
    if (entry && Date.now() - entry.at > 10_000) this.built.delete(connectionId);
  }

  private async replyConnection(tenantId: string, id: string): Promise<SmsConnection | undefined> {
    const row = await inTenant(tenantId, () => findChannel(this.deps.sql, id));
    if (row?.status !== "active" || !isSmsProvider(row.kind)) return undefined;
    const built = await this.credentialsOf({ ...row, tenantId });
    if (!built) return undefined;
    const provider = row.kind;
    built.client ??= await this.deps.client(provider, built.secrets);
    return {
      id,
      phoneNumber: row.publicId,
      provider,
      client: built.client,
      statusCallbackUrl: this.deps.statusCallbackUrl(provider),
    };
  }

  /** The connection's credentials, cached; undefined when they are gone for good (logged). */
  private async credentialsOf(
    c: Pick<ConnectionRoute, "id" | "tenantId" | "kind" | "publicId" | "settings" | "secretRefs">,
  ): Promise<Built | undefined> {
    const cached = this.built.get(c.id);
    if (cached && Date.now() - cached.at < (this.deps.cacheSeconds ?? 60) * 1000) return cached;
    return unlessCredentialsGone(this.deps.log, c.id, async () => {
      // Side by side: a cold cache on the voice greeter's 1 s path waits for one read, not one per credential.
      const names = Object.keys(c.secretRefs);
      const values = await Promise.all(names.map((name) => readCredential(this.deps, c, name)));
      const credentials = Object.fromEntries(names.map((name, i) => [name, values[i] as string]));
      const secrets = { connectionId: c.id, phoneNumber: c.publicId, credentials, settings: c.settings };
      const built = { secrets, at: Date.now() };
      this.built.set(c.id, built);
      return built;
    });
  }
}
