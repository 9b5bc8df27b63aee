import { IntercomClient, IntercomEnvironment, IntercomError } from "intercom-client";
import {
  type ContactInput,
  IntercomApiError,
  type IntercomContact,
  type IntercomConversation,
  type IntercomGateway,
  IntercomRateLimited,
} from "../ports/intercom";
import { conversationFromWire } from "../ports/intercom-wire";

export type IntercomRegion = "us" | "eu" | "au";

const REGIONS: Record<IntercomRegion, string> = {
  us: IntercomEnvironment.UsProduction,
  eu: IntercomEnvironment.EuProduction,
  au: IntercomEnvironment.AuProduction,
};

export interface IntercomAdapterOptions {
  /** A supplier, so a rotated token is picked up without a restart. */
  token: () => string | Promise<string>;
  region: IntercomRegion;
  /** Overrides the region's host (an emulator in tests). */
  baseUrl?: string | undefined;
  timeoutSeconds?: number;
  /** Called after a 401 (e.g. to re-read a rotated token); the call is then tried once more. */
  onUnauthorized?: () => Promise<boolean>;
}

type Raw = Record<string, unknown>;
const str = (v: unknown): string | null => (v === undefined || v === null || v === "" ? null : String(v));

/** Intercom through the official SDK (API version 2.14). Retries are the outbox's job, not the SDK's. */
export class IntercomSdkGateway implements IntercomGateway {
  private readonly client: IntercomClient;

  constructor(private readonly opts: IntercomAdapterOptions) {
    this.client = new IntercomClient({
      token: async () => opts.token(),
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : { environment: REGIONS[opts.region] }),
      version: "2.14",
      maxRetries: 0,
      timeoutInSeconds: opts.timeoutSeconds ?? 20,
    });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const mapped = mapError(error);
      if (mapped instanceof IntercomApiError && mapped.status === 401 && this.opts.onUnauthorized) {
        if (await this.opts.onUnauthorized()) {
          try {
            return await fn();
          } catch (retryError) {
            throw mapError(retryError);
          }
        }
      }
      throw mapped;
    }
  }

  async me() {
    const admin = (await this.call(() => this.client.admins.identify())) as Raw | undefined;
    const id = str(admin?.id);
    if (!id) throw new IntercomApiError(500, "GET /me returned no admin id");
    return { id, name: str(admin?.name) };
  }

  async getConversation(id: string): Promise<IntercomConversation> {
    const raw = await this.call(() =>
      this.client.conversations.find({ conversation_id: id, display_as: "plaintext" }),
    );
    return conversationFromWire(raw as unknown as Raw);
  }

  async reply(conversationId: string, input: { adminId: string; html: string; kind: "comment" | "note" }) {
    await this.call(() =>
      this.client.conversations.reply({
        conversation_id: conversationId,
        body: { message_type: input.kind, type: "admin", admin_id: input.adminId, body: input.html },
      }),
    );
  }

  async assign(
    conversationId: string,
    input: { adminId: string; assigneeType: "admin" | "team"; assigneeId: string; body?: string },
  ) {
    await this.call(() =>
      this.client.conversations.manage({
        conversation_id: conversationId,
        body: {
          message_type: "assignment",
          type: input.assigneeType,
          admin_id: input.adminId,
          assignee_id: input.assigneeId,
          ...(input.body ? { body: input.body } : {}),
        },
      }),
    );
  }

  private readonly tagIds = new Map<string, string>();

  async tag(conversationId: string, input: { adminId: string; tagName: string }) {
    let tagId = this.tagIds.get(input.tagName);
    if (!tagId) {
      // Creating a tag with an existing name returns that tag.
      const tag = (await this.call(() => this.client.tags.create({ name: input.tagName }))) as unknown as Raw;
      tagId = String(tag.id);
      this.tagIds.set(input.tagName, tagId);
    }
    const id = tagId;
    await this.call(() =>
      this.client.tags.tagConversation({ conversation_id: conversationId, id, admin_id: input.adminId }),
    );
  }

  async searchOpenConversations(updatedAfter: number, limit: number) {
    const found: { id: string; updatedAt: number; waitingSince: number | null }[] = [];
    let page = await this.call(() =>
      this.client.conversations.search({
        query: {
          operator: "AND",
          value: [
            { field: "updated_at", operator: ">", value: String(updatedAfter) },
            { field: "open", operator: "=", value: "true" },
          ],
        },
        pagination: { per_page: 50 },
      }),
    );
    for (;;) {
      for (const c of page.data as unknown as Raw[]) {
        found.push({
          id: String(c.id),
          updatedAt: Number(c.updated_at ?? 0),
          waitingSince: c.waiting_since ? Number(c.waiting_since) : null,
        });
        if (found.length >= limit) return found;
      }
      if (!page.hasNextPage()) return found;
      const current = page;
      page = await this.call(() => current.getNextPage());
    }
  }

  async findContact(by: {
    externalId?: string | undefined;
    email?: string | undefined;
  }): Promise<IntercomContact | null> {
    const field = by.externalId ? "external_id" : "email";
    const value = by.externalId ?? by.email;
    if (!value) return null;
    const page = await this.call(() =>
      this.client.contacts.search({ query: { field, operator: "=", value }, pagination: { per_page: 1 } }),
    );
    const first = page.data[0] as unknown as Raw | undefined;
    return first ? toContact(first) : null;
  }

  async createContact(input: ContactInput) {
    const created = await this.call(() =>
      this.client.contacts.create(
        contactFields(input) as Parameters<IntercomClient["contacts"]["create"]>[0],
      ),
    );
    return toContact(created as unknown as Raw);
  }

  async updateContact(id: string, input: ContactInput) {
    const updated = await this.call(() =>
      this.client.contacts.update({
        contact_id: id,
        ...contactFields(input),
      } as Parameters<IntercomClient["contacts"]["update"]>[0]),
    );
    return toContact(updated as unknown as Raw);
  }

  async deleteContact(id: string) {
    await this.call(() => this.client.contacts.delete({ contact_id: id }));
  }

  async trackEvent(input: Parameters<IntercomGateway["trackEvent"]>[0]) {
    await this.call(() =>
      this.client.events.create({
        event_name: input.eventName,
        created_at: input.createdAt,
        ...(input.userId ? { user_id: input.userId } : {}),
        ...(input.email ? { email: input.email } : {}),
        ...(input.id ? { id: input.id } : {}),
        ...(input.metadata ? { metadata: input.metadata } : {}),
      } as Parameters<IntercomClient["events"]["create"]>[0]),
    );
  }
}

/** Intercom's contact fields for the ones given (absent ones are left as Intercom has them). */
function contactFields(input: ContactInput): Record<string, unknown> {
  return {
    ...(input.externalId ? { external_id: input.externalId } : {}),
    ...(input.email ? { email: input.email } : {}),
    ...(input.name ? { name: input.name } : {}),
    ...(input.phone ? { phone: input.phone } : {}),
    ...(input.customAttributes ? { custom_attributes: input.customAttributes } : {}),
  };
}

function toContact(raw: Raw): IntercomContact {
  return { id: String(raw.id), externalId: str(raw.external_id), email: str(raw.email) };
}

function header(error: IntercomError, name: string): string | null {
  const headers = error.rawResponse?.headers as Headers | Record<string, string> | undefined;
  if (!headers) return null;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name);
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
  return entry ? String(entry[1]) : null;
}

function mapError(error: unknown): Error {
  if (!(error instanceof IntercomError)) return error instanceof Error ? error : new Error(String(error));
  const status = error.statusCode ?? 0;
  if (status === 429) {
    const reset = Number(header(error, "x-ratelimit-reset"));
    // Reset is unix seconds; without it, Intercom's window is 10 s.
    return new IntercomRateLimited(
      new Date(Number.isFinite(reset) && reset > 0 ? reset * 1000 : Date.now() + 10_000),
    );
  }
  const body = error.body as { errors?: { code?: string; message?: string }[] } | undefined;
  const first = body?.errors?.[0];
  return new IntercomApiError(
    status,
    `intercom ${status}${first?.code ? ` ${first.code}` : ""}: ${first?.message ?? error.message}`,
  );
}
