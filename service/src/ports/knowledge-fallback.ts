/** A knowledge-base section, as the engine quotes it when the model cannot answer. */
export interface KnowledgeArticle {
  source: string;
  heading: string;
  body: string;
}

/**
 * The engine's last resort when the model fails before any reply byte: the best-matching article, or
 * undefined when none matches well enough. The local provider implements it (adapters/local-model.ts).
 */
export interface KnowledgeFallback {
  answer(question: string): Promise<KnowledgeArticle | undefined>;
}
