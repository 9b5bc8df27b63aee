import type { Sql } from "../db/client";
import { saveUnbilledMessages } from "../db/turns";
import type { TurnResult } from "../domain/turn";
import { estimateTokens } from "../ports/model-provider";
import type { TenantEscalations } from "./escalations";
import { FALLBACK_REPLY } from "./fallback";
import { type HandoffRules, handoffBeforeTurn } from "./handoff-policy";
import type { PreparedTurn } from "./prepared-turn";

/** What the web chat answers instead of the model: the handoff notice, or that a person has the chat. */
export interface WebHandoffReply {
  reply: string;
  /** `handoff`: an escalation was opened (or joined) now; `with_person`: a person claimed the chat. */
  outcome: "handoff" | "with_person";
  escalationId: string | undefined;
}

/** The short answer while a person has the conversation: the bot stays out of it. */
export const WITH_PERSON_REPLY = "A person from our team has this conversation and will answer you here.";

/**
 * The web chat's handoff, before the model is asked (the session is the conversation): while a person
 * has claimed the chat's escalation, the customer's message is stored and answered with a short "a person
 * is on it", no model call; a customer who asks for a person (or writes about a subject that always goes
 * to one) gets an escalation and the notice of what happens next.
 */
export class WebHandoff {
  constructor(
    private readonly deps: {
      sql: Sql;
      escalations: Pick<TenantEscalations, "silenced" | "open">;
      rules: HandoffRules;
    },
  ) {}

  async before(turn: PreparedTurn): Promise<WebHandoffReply | undefined> {
    const { escalations } = this.deps;
    if (turn.session && (await escalations.silenced("web", turn.sessionId))) {
      await this.store(turn, WITH_PERSON_REPLY);
      return { reply: WITH_PERSON_REPLY, outcome: "with_person", escalationId: undefined };
    }
    // The pattern reads what the customer wrote; what is stored is the redacted text.
    const reason = handoffBeforeTurn(turn.input.message, 0, this.deps.rules);
    if (!reason) return undefined;
    // The customer's message first: the escalation links the session, which this creates when new.
    await saveUnbilledMessages(this.deps.sql, this.session(turn), [
      { role: "user", content: turn.text, tokens: estimateTokens(turn.text) },
    ]);
    const opened = await escalations.open({
      channel: "web",
      conversationId: turn.sessionId,
      contactId: null,
      sessionId: turn.sessionId,
      reason,
      summary: summaryOf(turn),
    });
    await saveUnbilledMessages(this.deps.sql, this.session(turn), [
      { role: "assistant", content: opened.notice, tokens: estimateTokens(opened.notice) },
    ]);
    return { reply: opened.notice, outcome: "handoff", escalationId: opened.id };
  }

  /**
   * After the model: a fallback that promised the customer a person ("a person from our support team
   * will follow up") opens an escalation, so the promise reaches someone. The reply stays as it was (it
   * may have been streamed already). Returns the escalation's id.
   */
  async after(
    turn: PreparedTurn,
    result: Pick<TurnResult, "outcome" | "reply">,
  ): Promise<string | undefined> {
    if (result.outcome !== "fallback" || result.reply !== FALLBACK_REPLY) return undefined;
    const opened = await this.deps.escalations.open({
      channel: "web",
      conversationId: turn.sessionId,
      contactId: null,
      sessionId: turn.sessionId,
      reason: "model_unavailable",
      summary: summaryOf(turn),
    });
    return opened.id;
  }

  private store(turn: PreparedTurn, reply: string) {
    return saveUnbilledMessages(this.deps.sql, this.session(turn), [
      { role: "user", content: turn.text, tokens: estimateTokens(turn.text) },
      { role: "assistant", content: reply, tokens: estimateTokens(reply) },
    ]);
  }

  private session(turn: PreparedTurn) {
    return {
      sessionId: turn.sessionId,
      identityId: turn.input.identity.id,
      channel: "web",
      externalRef: turn.input.externalRef ?? null,
    };
  }
}

/**
 * What the person taking over reads first: the session's running summary, or else what the customer wrote
 * last (as stored: redacted), so an escalation e-mail never says only "none yet".
 */
export function summaryOf(turn: Pick<PreparedTurn, "session" | "history" | "text">): string | null {
  if (turn.session?.summary) return turn.session.summary;
  const said = [...turn.history.filter((m) => m.role === "user").map((m) => m.content), turn.text]
    .slice(-3)
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => line.length > 0);
  if (said.length === 0) return null;
  const text = `The customer wrote: ${said.map((line) => `"${line}"`).join(" / ")}`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}
