/**
 * The peer of bench/turn-cost.ts: the chat endpoint a developer would write instead of Switchboard on the
 * same stack (Hono, postgres.js, @google/genai), idiomatic and nothing more: upsert the session, read its
 * last 10 messages, generate, store both messages. No auth, limits, budgets, ledger, summaries, redaction
 * or knowledge base. Same request and answer as `POST /api/v1/chat` as far as the load generator needs.
 */
import { randomUUID } from "node:crypto";
import { GoogleGenAI } from "@google/genai";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { logger } from "hono/logger";
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL ?? "", { onnotice: () => {} });
const ai = new GoogleGenAI({
  apiKey: process.env.GEMINI_API_KEY ?? "",
  httpOptions: { baseUrl: process.env.GOOGLE_GEMINI_BASE_URL },
});

await sql`create table if not exists sessions (
  id uuid primary key, created_at timestamptz not null default now(), updated_at timestamptz not null default now())`;
await sql`create table if not exists messages (
  id bigserial primary key, session_id uuid not null references sessions, role text not null,
  content text not null, created_at timestamptz not null default now())`;
await sql`create index if not exists messages_by_session on messages (session_id, id)`;

const app = new Hono();
app.use(logger());
app.get("/api/v1/health", (c) => c.json({ status: "healthy" }));
app.post("/api/v1/chat", async (c) => {
  const { message, sessionId = randomUUID() } = await c.req.json<{ message?: string; sessionId?: string }>();
  if (!message?.trim()) return c.json({ error: "message is required" }, 400);
  await sql`insert into sessions (id) values (${sessionId}) on conflict (id) do update set updated_at = now()`;
  const history = await sql<{ role: string; content: string }[]>`
    select role, content from messages where session_id = ${sessionId} order by id desc limit 10`;
  const response = await ai.models.generateContent({
    model: "gemini-2.5-flash",
    contents: [
      ...history.reverse().map((m) => ({ role: m.role, parts: [{ text: m.content }] })),
      { role: "user", parts: [{ text: message }] },
    ],
    config: { systemInstruction: "You are a friendly support assistant. Answer briefly." },
  });
  const reply = response.text ?? "";
  await sql`insert into messages (session_id, role, content)
    values (${sessionId}, 'user', ${message}), (${sessionId}, 'model', ${reply})`;
  return c.json({ sessionId, reply });
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, (info) =>
  console.log(JSON.stringify({ event: "service.started", port: info.port })),
);
process.once("SIGTERM", () => server.close(() => process.exit(0)));
