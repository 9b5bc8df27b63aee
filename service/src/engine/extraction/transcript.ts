/** One line of a conversation as extraction reads it: a call's transcript, or a session's messages. */
export interface TranscriptLine {
  role: "user" | "assistant";
  text: string;
}

/** The conversation as one text for the model, each line with who said it. */
export function renderTranscript(lines: readonly TranscriptLine[]): string {
  return lines.map((l) => `${l.role === "user" ? "Customer" : "Agent"}: ${l.text}`).join("\n");
}
