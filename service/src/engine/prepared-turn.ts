import type { SessionRow } from "../db/sessions";
import type { StoredMessage, TurnInput } from "../domain/turn";
import type { BudgetVerdict } from "./budgets";

/** A turn that passed every refusal (limits, session ownership, budget), its text redacted. */
export interface PreparedTurn {
  input: TurnInput;
  /** The session it continues; undefined for a new one (created when the turn is stored). */
  session: SessionRow | undefined;
  /** The session's messages not yet folded into its summary, read with the refusals (one round trip). */
  history: StoredMessage[];
  sessionId: string;
  /** The customer's message as the model and the database see it (PII redacted). */
  text: string;
  budget: BudgetVerdict & { status: "ok" | "warn" };
  /** performance.now() when the turn arrived: the processing time logged with it. */
  startedAt: number;
}
