import {
  IntercomApiError,
  type IntercomConversation,
  type IntercomGateway,
  IntercomRateLimited,
} from "../../ports/intercom";
import type {
  ChannelSender,
  HandoffContext,
  OpenedConversation,
  PendingMessage,
  UpstreamFailure,
} from "../pipeline/channel";
import { type IntercomHandoffSettings, intercomHandoffSteps } from "./handoff";
import { toIntercomHtml } from "./html";
import { unansweredParts } from "./parts";

/** Intercom's outbound side: it reads the conversation, replies as the bot's admin, hands over. */
export class IntercomSender implements ChannelSender<IntercomConversation> {
  constructor(
    private readonly deps: {
      gateway: IntercomGateway;
      /** The bot's admin: replies are posted as it. */
      adminId: string;
      handoff: IntercomHandoffSettings;
    },
  ) {}

  async open(conversationId: string): Promise<OpenedConversation<IntercomConversation>> {
    const conversation = await this.deps.gateway.getConversation(conversationId);
    return { view: conversation, contactId: conversation.contactId };
  }

  send(conversation: IntercomConversation, reply: string): Promise<void> {
    return this.deps.gateway.reply(conversation.id, {
      adminId: this.deps.adminId,
      html: toIntercomHtml(reply),
      kind: "comment",
    });
  }

  /** The reply arrived if none of the messages still waits (an admin comment now follows each of them). */
  delivered(conversation: IntercomConversation, messages: PendingMessage[]): boolean {
    const unanswered = new Set(unansweredParts(conversation, this.deps.adminId).map((p) => p.id));
    return !messages.some((m) => unanswered.has(m.id));
  }

  handoffSteps(conversation: IntercomConversation, context: HandoffContext) {
    const { gateway, adminId, handoff } = this.deps;
    return intercomHandoffSteps(
      { gateway, adminId, settings: handoff, now: new Date() },
      conversation,
      context,
    );
  }

  /** A 429 waits for Intercom's reset time; other API errors are retried with backoff. */
  failure(error: unknown): UpstreamFailure | undefined {
    if (error instanceof IntercomRateLimited)
      return { upstream: "intercom", status: 429, retryAt: error.resetAt };
    if (error instanceof IntercomApiError) return { upstream: "intercom", status: error.status };
    return undefined;
  }
}
