/**
 * Tokens sent to the model at turn 30 of one conversation (not a test; `npm run bench`), against sending
 * the whole history, measured in the same run through the real SDK and the Gemini emulator's token counts
 * (ceil(chars / 4), the same estimator for both sides). The window is 10 messages / 4,000 tokens and older
 * turns are folded into the summary. Target: ≤ 40 % of the full history.
 */
import { openDatabase } from "../service/src/db/client";
import { startService } from "../service/src/main";
import { startGeminiEmulator } from "../test/emulators/gemini";
import { writeResult } from "./lib";

const TURNS = 30;
const gemini = await startGeminiEmulator();
// Realistic answers: a few sentences each, so the history grows as a real one does.
gemini.setResponder((req) => {
  const last = (req.body.contents as { parts: { text?: string }[] }[]).at(-1)?.parts[0]?.text ?? "";
  return {
    kind: "text",
    text: `${"Here is what you need to know about that. ".repeat(6)}(${last.slice(0, 40)})`,
  };
});
const db = await openDatabase({});
const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const svc = await startService(
  {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    GEMINI_API_KEY: gemini.apiKey,
    GOOGLE_GEMINI_BASE_URL: gemini.url,
    SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
    CONTEXT_CACHE: "false",
    // Thirty turns of one guest in well under a minute: only the history window is measured.
    RATE_LIMIT_CLIENT_PER_MINUTE: "1000",
    // Thirty turns exceed a guest's daily budget; this measures the window, not the budget.
    BUDGETS: JSON.stringify({
      guest: { daily: null, monthly: null },
      free: { daily: null, monthly: null },
      premium: { daily: null, monthly: null },
      enterprise: { daily: null, monthly: null },
    }),
  },
  { database: db, logDestination: sink as never },
);

const questions = Array.from(
  { length: TURNS },
  (_, i) => `Question ${i + 1}: how do invoices, refunds and plan changes work for my team of ${i + 3}?`,
);
let sessionId: string | undefined;
let token: string | undefined;
const sent: number[] = [];
const history: string[] = [];
for (const q of questions) {
  const res = await fetch(`${svc.url}/api/v1/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ message: q, ...(sessionId ? { sessionId } : {}) }),
  });
  const body = (await res.json()) as {
    sessionId: string;
    sessionToken?: string;
    reply: string;
    usage: { inputTokens: number };
  };
  sessionId = body.sessionId;
  token = body.sessionToken ?? token;
  sent.push(body.usage.inputTokens);
  history.push(q, body.reply);
}
// The whole history on turn 30: the same system prompt and knowledge base (what turn 1 sent, minus its
// question), plus every message before the last question, plus the question: the emulator's estimator.
const fixed = (sent[0] ?? 0) - Math.ceil((questions[0]?.length ?? 0) / 4);
const fullHistory = fixed + Math.ceil(history.slice(0, -1).join("").length / 4);
const atTurn30 = sent[TURNS - 1] ?? 0;
const ratio = atTurn30 / fullHistory;
// The grounding (system prompt + knowledge base) is the same on both sides; without it, what the window
// and summary save on the conversation itself.
const conversationRatio = (atTurn30 - fixed) / (fullHistory - fixed);
writeResult("history-tokens", {
  turns: TURNS,
  inputTokensAtTurn30: atTurn30,
  fullHistoryTokensAtTurn30: fullHistory,
  ratio: Math.round(ratio * 1000) / 1000,
  groundingTokens: fixed,
  conversationRatio: Math.round(conversationRatio * 1000) / 1000,
  perTurn: sent,
  target: { ratio: 0.4, met: ratio <= 0.4 },
});
console.table([
  {
    turn: TURNS,
    sent: atTurn30,
    fullHistory,
    ratio: ratio.toFixed(3),
    grounding: fixed,
    conversationOnly: conversationRatio.toFixed(3),
    target_met: ratio <= 0.4,
  },
]);
await svc.close();
await db.close();
await gemini.close();
