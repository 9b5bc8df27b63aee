import type { KnowledgeArticle } from "../ports/knowledge-fallback";
import type { GenerateResult } from "../ports/model-provider";

export const FALLBACK_REPLY =
  "Sorry, I can't answer right now. A person from our support team will follow up with you as soon as possible.";
/** Appended when the model failed after part of its answer had reached the user. */
export const INTERRUPTED = "\n\n(The answer was interrupted. Please ask again.)";
const FALLBACK_INTRO =
  "I can't reach the assistant right now, but this article from our help center may help:\n\n";

/** What the user gets when the model fails before any reply byte: the best article, or a promise of a person. */
export function fallbackReply(article: KnowledgeArticle | undefined): string {
  return article ? `${FALLBACK_INTRO}**${article.heading}**\n\n${article.body.trim()}` : FALLBACK_REPLY;
}

/** A model result for a reply the model did not write: no tokens, nothing to call. */
export function emptyResult(model: string): GenerateResult {
  return {
    text: "",
    model,
    usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, thoughtsTokens: 0 },
    functionCalls: [],
  };
}
