import type { StoredMessage } from "../domain/turn";

/**
 * The newest messages that fit both limits (brief: last 10 messages or 4,000 tokens), oldest first;
 * everything older is `overflow`, to be folded into the session summary.
 */
export function selectWindow(
  messages: readonly StoredMessage[],
  limits: { maxMessages: number; maxTokens: number },
  reservedTokens = 0,
): { window: StoredMessage[]; overflow: StoredMessage[] } {
  let tokens = reservedTokens;
  let start = messages.length;
  while (start > 0 && messages.length - start < limits.maxMessages) {
    const candidate = messages[start - 1];
    if (!candidate || tokens + candidate.tokens > limits.maxTokens) break;
    tokens += candidate.tokens;
    start--;
  }
  // A window never starts with a model turn: Gemini expects the conversation to open with the user.
  while (start < messages.length && messages[start]?.role === "assistant") start++;
  return { window: messages.slice(start), overflow: messages.slice(0, start) };
}

export function summaryPrompt(previousSummary: string | null, overflow: readonly StoredMessage[]): string {
  const transcript = overflow
    .map((m) => `${m.role === "user" ? "Customer" : "Assistant"}: ${m.content}`)
    .join("\n");
  return [
    previousSummary ? `Summary so far:\n${previousSummary}\n` : "",
    `New messages:\n${transcript}\n`,
    "Write an updated summary of the whole conversation in at most 120 words: the customer's goal, facts they gave, what was answered, and what is still open. Plain text.",
  ].join("\n");
}
