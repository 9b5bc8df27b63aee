import { BudgetExceeded } from "../domain/errors";
import type { FunctionDeclaration, TurnResult } from "../domain/turn";

/**
 * When a conversation goes to a person instead of the bot: pure decisions over what the customer wrote,
 * what the model answered and how the conversation went so far. The channel carries them out.
 */
export interface HandoffRules {
  /** Customer asks for a person. */
  requestPattern: RegExp;
  /** Subjects that always go to a person (refunds, legal, …); undefined: none. */
  topicPattern?: RegExp | undefined;
  /** Hand off instead of sending the Nth answer in a row the model was not confident about. */
  lowConfidenceLimit: number;
  /** Hand off a message whose processing failed this many times. */
  maxAttempts: number;
}

/** Offered to the model on channels with people behind them: it may ask for a handoff itself. */
export const HANDOFF_TOOL: FunctionDeclaration = {
  name: "handoff",
  description:
    "Hand the conversation to a human support agent. Call it when the customer asks for a person, when the request needs an account action you cannot do, or when you are not sure your answer is right (reason 'uncertain', together with your best answer).",
  parameters: {
    type: "object",
    properties: {
      reason: {
        type: "string",
        enum: ["customer_request", "cannot_help", "sensitive", "uncertain"],
        description: "Why a person should take over.",
      },
    },
    required: ["reason"],
  },
};

/** Before the model is asked: the customer wants a person, the topic needs one, or the work keeps failing. */
export function handoffBeforeTurn(text: string, attempts: number, rules: HandoffRules): string | undefined {
  if (rules.requestPattern.test(text)) return "customer_request";
  if (rules.topicPattern?.test(text)) return "topic";
  if (attempts > rules.maxAttempts) return "processing_failed";
  return undefined;
}

/** When the engine refused the turn: a used-up budget goes to a person; other refusals are retried. */
export function handoffOnRefusal(error: unknown): string | undefined {
  return error instanceof BudgetExceeded ? "budget_exhausted" : undefined;
}

export type AfterTurn = { handoff: string } | { handoff?: undefined; uncertain: boolean };

/**
 * After the model answered: a fallback or the model's own handoff call goes to a person (an `uncertain`
 * call keeps the answer), and so does the answer that makes `lowConfidenceLimit` unconfident ones in a row.
 * Otherwise the answer is sent, marked uncertain or not (the count goes on or starts again).
 */
export function handoffAfterTurn(
  result: Pick<TurnResult, "outcome" | "confident" | "functionCalls">,
  lowConfidenceAnswers: number,
  rules: HandoffRules,
): AfterTurn {
  const call = result.functionCalls.find((c) => c.name === HANDOFF_TOOL.name);
  const callReason = typeof call?.args.reason === "string" ? call.args.reason : "cannot_help";
  if (result.outcome === "fallback") return { handoff: "model_unavailable" };
  if (call && callReason !== "uncertain") return { handoff: `model_${callReason}` };
  const uncertain = !result.confident || call !== undefined;
  if (uncertain && lowConfidenceAnswers + 1 >= rules.lowConfidenceLimit) return { handoff: "low_confidence" };
  return { uncertain };
}
