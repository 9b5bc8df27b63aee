/**
 * GPT-trainer emulator (`https://app.gpt-trainer.com/api/v1`), the hosted chatbot the original bridge used.
 *
 * Covered: `POST /api/v1/chatbot/{chatbot_uuid}/session/create` → `{ uuid, created_at, modified_at }`, and
 * `POST /api/v1/session/{session_uuid}/message/stream` with `{"query": "…"}` → the answer as a chunked
 * `text/plain` stream. `Authorization: Bearer <api key>` (401 otherwise); an unknown chatbot or session →
 * 404. Answers are `GPT-trainer answer #<n in session> to: <query>` unless `answer` is replaced; `failNext`
 * injects statuses. Not covered: chatbot management, data sources, webhooks of GPT-trainer itself.
 */
import { randomUUID } from "node:crypto";
import { isRecord, type RecordedRequest, sendJson, startEmulatorServer } from "./http-server";

export interface GptTrainerEmulator {
  url: string;
  apiKey: string;
  chatbotUuid: string;
  requests: RecordedRequest[];
  /** Session uuid → the queries it received, in order. */
  sessions: Map<string, string[]>;
  answer: (query: string, session: string, n: number) => string;
  /** The next message calls fail with these statuses, FIFO. */
  failNext(...statuses: number[]): void;
  chunkDelayMs: number;
  close(): Promise<void>;
}

export async function startGptTrainerEmulator(opts: { apiKey?: string } = {}): Promise<GptTrainerEmulator> {
  const apiKey = opts.apiKey ?? "gpt-trainer-test-key";
  const chatbotUuid = randomUUID();
  const sessions = new Map<string, string[]>();
  const faults: number[] = [];
  const server = await startEmulatorServer(async (req, res, recorded) => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendJson(res, 401, { detail: "Invalid API key" });
    }
    const create = /^\/api\/v1\/chatbot\/([^/]+)\/session\/create$/.exec(recorded.path);
    if (req.method === "POST" && create) {
      if (create[1] !== chatbotUuid) return sendJson(res, 404, { detail: "Chatbot not found" });
      const uuid = randomUUID().replace(/-/g, "");
      sessions.set(uuid, []);
      const now = new Date().toISOString();
      return sendJson(res, 200, { uuid, created_at: now, modified_at: now });
    }
    const message = /^\/api\/v1\/session\/([^/]+)\/message\/stream$/.exec(recorded.path);
    if (req.method === "POST" && message?.[1]) {
      const fault = faults.shift();
      if (fault) return sendJson(res, fault, { detail: `injected ${fault}` });
      const history = sessions.get(message[1]);
      if (!history) return sendJson(res, 404, { detail: "Session not found" });
      const query =
        isRecord(recorded.body) && typeof recorded.body.query === "string" ? recorded.body.query : "";
      history.push(query);
      const text = emulator.answer(query, message[1], history.length);
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "transfer-encoding": "chunked" });
      for (const piece of text.match(/\S+\s*/g) ?? []) {
        res.write(piece);
        if (emulator.chunkDelayMs) await new Promise((r) => setTimeout(r, emulator.chunkDelayMs));
      }
      res.end();
      return;
    }
    return sendJson(res, 404, { detail: "Not found" });
  });
  const emulator: GptTrainerEmulator = {
    url: `${server.url}/api/v1`,
    apiKey,
    chatbotUuid,
    requests: server.requests,
    sessions,
    answer: (query, _session, n) => `GPT-trainer answer #${n} to: ${query}`,
    failNext: (...statuses) => faults.push(...statuses),
    chunkDelayMs: 0,
    close: () => server.close(),
  };
  return emulator;
}
