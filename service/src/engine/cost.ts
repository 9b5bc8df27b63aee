import type { ModelPrice, TokenUsage } from "../domain/accounting";

/**
 * USD cost of one call. `inputTokens` already includes cached tokens (Gemini's promptTokenCount), which
 * bill at the cached rate; thinking tokens bill as output.
 */
export function costUsd(usage: TokenUsage, price: ModelPrice): number {
  const uncached = Math.max(0, usage.inputTokens - usage.cachedTokens);
  const micro =
    uncached * price.input +
    usage.cachedTokens * price.cached +
    (usage.outputTokens + usage.thoughtsTokens) * price.output;
  return Math.round((micro / 1_000_000) * 1e8) / 1e8;
}

/** Exact model name first, then the longest configured prefix ("gemini-2.5-flash-001" → "gemini-2.5-flash"). */
export function priceFor(model: string, prices: Record<string, ModelPrice>): ModelPrice | undefined {
  const exact = prices[model];
  if (exact) return exact;
  const key = Object.keys(prices)
    .filter((name) => model.startsWith(name))
    .sort((a, b) => b.length - a.length)[0];
  return key ? prices[key] : undefined;
}

export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens + usage.thoughtsTokens;
}
