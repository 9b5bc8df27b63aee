/**
 * Model routing: the cheap model by default, the stronger one for questions that need analysis, for
 * comparisons of more than N items, and for long conversations (product brief).
 */

export interface RoutingRules {
  defaultModel: string;
  escalationModel: string;
  /** Case-insensitive regular-expression fragments; any match escalates. */
  escalatePatterns: readonly string[];
  /** Escalate when the session has had more than this many turns. */
  turnThreshold: number;
  /** Escalate when a comparison names more than this many items. */
  maxComparedItems: number;
  /**
   * May anonymous callers reach the escalation model at all? Off, so that a keyword is no free Pro call
   * for anyone with curl. @default false
   */
  escalateGuests?: boolean;
}

export interface RoutingDecision {
  model: string;
  reason: "default" | "pattern" | "items" | "turns";
}

export function compileRules(rules: RoutingRules) {
  const pattern = new RegExp(`\\b(?:${rules.escalatePatterns.join("|")})`, "i");
  /** `mayEscalate`: false keeps the caller on the default model whatever the message says. */
  return (message: string, previousTurns: number, mayEscalate = true): RoutingDecision => {
    if (!mayEscalate) return { model: rules.defaultModel, reason: "default" };
    if (pattern.test(message)) return { model: rules.escalationModel, reason: "pattern" };
    if (comparedItems(message) > rules.maxComparedItems)
      return { model: rules.escalationModel, reason: "items" };
    if (previousTurns >= rules.turnThreshold) return { model: rules.escalationModel, reason: "turns" };
    return { model: rules.defaultModel, reason: "default" };
  };
}

/**
 * Counts the items in a comparison: "A vs B vs C" → 3, "which is better: X, Y or Z" → 3. A message that
 * is not a comparison counts 0.
 */
export function comparedItems(message: string): number {
  const text = message.toLowerCase();
  const versus = text.split(/\s+(?:vs\.?|versus)\s+/);
  if (versus.length > 1) return versus.length;
  if (!/\b(better|best|differences?|between|which (one|plan|option)|choose|or)\b/.test(text)) return 0;
  // The list after a colon or "between", split on commas and a final and/or.
  const tail = /(?:between|:)\s*(.+)$/.exec(text)?.[1] ?? text;
  const items = tail
    .split(/,|\s+(?:and|or)\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items.length >= 2 ? items.length : 0;
}
