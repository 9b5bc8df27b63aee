/** The baseline of bench/chat-overhead.ts: a bare Hono JSON route on the same machine, in its own process. */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("/echo", async (c) => c.json({ reply: (await c.req.json<{ message: string }>()).message }));
app.get("/api/v1/health", (c) => c.json({ status: "healthy" }));
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(JSON.stringify({ event: "service.started", port: info.port }));
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
