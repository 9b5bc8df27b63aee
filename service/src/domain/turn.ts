import type { TokenUsage } from "./accounting";
import type { Identity } from "./identity";

/** The doors a turn can come through. */
export type Channel = "web" | "intercom" | "sms" | "voice" | "email";

/** A message of a session as stored (after redaction). */
export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
  tokens: number;
}

/** A function the model may call instead of (or beside) answering. */
export interface FunctionDeclaration {
  name: string;
  description: string;
  /** JSON schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface FunctionCall {
  name: string;
  args: Record<string, unknown>;
}

/** One customer message for the engine, from any channel. */
export interface TurnInput {
  identity: Identity;
  channel: Channel;
  /** Continue this session; it must belong to `identity`. */
  sessionId?: string | undefined;
  /** Or continue the session tied to an external conversation (an Intercom conversation id). */
  externalRef?: string | undefined;
  /** The caller's IP address (web channel): anonymous callers are limited per address. */
  clientAddress?: string | undefined;
  /** The anonymous identity was minted for this turn (a new session token will be handed out). */
  newIdentity?: boolean | undefined;
  message: string;
  tools?: FunctionDeclaration[] | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Takes the finished turn's `conversation.processed` fields, for a channel that writes one log line per
   * turn of its own (the web: its request line), so a turn costs one line fewer; without it the engine
   * writes them in a line of their own.
   */
  logTurn?: ((fields: TurnLogFields) => void) | undefined;
}

/** The fields of a finished turn's `conversation.processed` log event (observability/log-events.ts). */
export interface TurnLogFields {
  event: string;
  channel: Channel;
  outcome: TurnResult["outcome"];
  /** Why the model was chosen (routing rules). */
  routing: string;
  model: string;
  /** From the start of the turn (admission) to its reply, stored and accounted. */
  durationMs: number;
}

export interface TurnUsage extends TokenUsage {
  costUsd: number;
}

export interface TurnResult {
  sessionId: string;
  reply: string;
  model: string;
  provider: string;
  usage: TurnUsage;
  outcome: "answered" | "fallback";
  /** False when the answer did not come from the model or the knowledge base had nothing. */
  confident: boolean;
  functionCalls: FunctionCall[];
  budget: { status: "ok" | "warn"; remaining: number | null };
}
