/** Tokens of one model call, as the providers report them (or estimate them). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  thoughtsTokens: number;
}

/** USD per 1M tokens of one model. */
export interface ModelPrice {
  input: number;
  output: number;
  cached: number;
}

/** The token budget of a tier; null means unlimited. */
export interface TierBudget {
  /** Tokens per UTC day. */
  daily: number | null;
  /** Tokens per UTC calendar month. */
  monthly: number | null;
}

/** Tokens an identity has spent in the current UTC day and month. */
export interface BudgetUsage {
  day: number;
  month: number;
}
