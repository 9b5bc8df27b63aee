import { listChannels } from "../../db/channels";
import type { Sql } from "../../db/client";
import { findConnectionRoute } from "../../db/platform-channels";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import type { IntercomConversation, IntercomGateway } from "../../ports/intercom";
import type { SecretStore } from "../../ports/secret-store";
import type { ConnectedChannels, QueuedChannel, QueuedChannelName, TenantChannel } from "../pipeline/channel";
import { readCredential, unlessCredentialsGone } from "../pipeline/credentials";
import { type IntercomSettings, intercomChannel } from "./channel";

export type IntercomRegion = "us" | "eu" | "au";

/** What a connection's gateway is built from; the SDK adapter is composed in (compose/channels.ts). */
export interface GatewayOptions {
  token: () => string;
  region: IntercomRegion;
  /** After a 401: re-read the token (rotated through the admin API); true when it changed. */
  onUnauthorized: () => Promise<boolean>;
}

export interface IntercomConnectionsDeps {
  sql: Sql;
  secrets: SecretStore;
  log: Logger;
  gateway(options: GatewayOptions): Promise<IntercomGateway>;
  /** The deployment's Intercom settings (tier, handoff) around a connection's bot admin. */
  settings(adminId: string): IntercomSettings;
  /** How long a connection's credentials stay in memory before they are read again (default 60 s). */
  cacheSeconds?: number;
}

/** A connection as both lookups give it. */
interface Connection {
  id: string;
  tenantId: string;
  publicId: string;
  settings: Record<string, unknown>;
  secretRefs: Record<string, string>;
}

/** Refused signatures older than this evict the cached secret, so a rotated secret is read at the retry. */
const EVICT_AFTER_MS = 10_000;

/**
 * Tenants' own Intercom apps (admin API channel connections): each with its client secret (verifying the
 * webhooks on its path), its access token and bot admin (answering its tenant's conversations). Built on
 * first use and kept per connection for `cacheSeconds`; the connection itself is looked up every time, so
 * a deleted or disabled connection, or a suspended tenant, stops at once.
 */
export class IntercomConnections implements ConnectedChannels {
  readonly names: readonly QueuedChannelName[] = ["intercom"];
  private readonly built = new Map<string, { channel: QueuedChannel<IntercomConversation>; at: number }>();
  /** Bot admins read from Intercom (`GET /me`) for connections that name none; they do not change. */
  private readonly admins = new Map<string, string>();

  constructor(private readonly deps: IntercomConnectionsDeps) {}

  async byConnection(name: QueuedChannelName, connectionId: string): Promise<TenantChannel | undefined> {
    if (name !== "intercom") return undefined;
    const route = await findConnectionRoute(this.deps.sql, connectionId);
    const usable = route?.kind === "intercom" && route.status === "active" && route.tenantStatus === "active";
    if (!route || !usable) {
      this.built.delete(connectionId);
      return undefined;
    }
    const channel = await this.channelOf(route);
    return channel ? { tenantId: route.tenantId, channel: channel as QueuedChannel<unknown> } : undefined;
  }

  async ofTenant(name: QueuedChannelName, tenantId: string): Promise<QueuedChannel<unknown> | undefined> {
    if (name !== "intercom") return undefined;
    const rows = await inTenant(tenantId, () => listChannels(this.deps.sql));
    // One Intercom app answers a tenant's conversations: its oldest active connection (docs/intercom.md).
    const own = rows.find((c) => c.kind === "intercom" && c.status === "active");
    if (!own) return undefined;
    return (await this.channelOf({ ...own, tenantId })) as QueuedChannel<unknown> | undefined;
  }

  /** The connection's channel, built or cached; undefined when its credentials are gone for good. */
  private async channelOf(c: Connection): Promise<QueuedChannel<IntercomConversation> | undefined> {
    const cached = this.built.get(c.id);
    if (cached && Date.now() - cached.at < (this.deps.cacheSeconds ?? 60) * 1000) return cached.channel;
    const channel = await unlessCredentialsGone(this.deps.log, c.id, () => this.build(c));
    if (channel) this.built.set(c.id, { channel, at: Date.now() });
    return channel;
  }

  private async build(c: Connection): Promise<QueuedChannel<IntercomConversation>> {
    const { secrets, sql } = this.deps;
    const owner = { ...c, kind: "intercom" };
    const read = (credential: string) => readCredential({ sql, secrets }, owner, credential);
    const [clientSecret, firstToken] = await Promise.all([read("clientSecret"), read("accessToken")]);
    let token = firstToken;
    const gateway = await this.deps.gateway({
      token: () => token,
      region: regionOf(c.settings.region),
      onUnauthorized: async () => {
        const fresh = await read("accessToken");
        const changed = fresh !== token;
        token = fresh;
        return changed;
      },
    });
    const adminId = await this.adminOf(c, gateway);
    const channel = intercomChannel({
      sql,
      gateway,
      settings: this.deps.settings(adminId),
      webhookSecret: clientSecret,
      connection: { appId: c.publicId, connectionId: c.id },
    });
    return { ...channel, verifier: this.evictingVerifier(c.id, channel) };
  }

  private async adminOf(c: Connection, gateway: IntercomGateway): Promise<string> {
    if (typeof c.settings.adminId === "string") return c.settings.adminId;
    const known = this.admins.get(c.id) ?? (await gateway.me()).id;
    this.admins.set(c.id, known);
    return known;
  }

  /** A refused signature drops a secret cached for a while: the provider's retry then reads a rotated one. */
  private evictingVerifier(connectionId: string, channel: QueuedChannel<IntercomConversation>) {
    const inner = channel.verifier;
    if (!inner) return undefined;
    return {
      verify: (request: Parameters<typeof inner.verify>[0]) => {
        const verdict = inner.verify(request) as boolean;
        const entry = this.built.get(connectionId);
        if (!verdict && entry && Date.now() - entry.at > EVICT_AFTER_MS) this.built.delete(connectionId);
        return verdict;
      },
    };
  }
}

const regionOf = (value: unknown): IntercomRegion => (value === "eu" || value === "au" ? value : "us");
