import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { buildModelStack, type ModelStack } from "../../service/src/compose/model-stack";
import { parseConfig } from "../../service/src/config";
import type { Database } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { DEFAULT_TENANT_ID, inTenant } from "../../service/src/db/tenant-scope";
import { createLogger } from "../../service/src/logger";
import type { GenerateRequest } from "../../service/src/ports/model-provider";
import { testDatabase } from "./helpers";

/** The real engine (local model) tells the model an SMS turn is a text message; a web turn it does not. */

let db: Database;
let drop: () => Promise<void>;
let stack: ModelStack;

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  await migrate(db.sql);
  const config = parseConfig({ MODEL_PROVIDER: "local", KNOWLEDGE_DIR: "service/knowledge" });
  stack = await buildModelStack(config, { sql: db.sql, log: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await drop?.();
});

test("an SMS turn asks for a short plain-text answer; a web turn's instruction is the tenant's alone", async () => {
  const seen: GenerateRequest[] = [];
  const generate = stack.provider.generate.bind(stack.provider);
  vi.spyOn(stack.provider, "generate").mockImplementation((request) => {
    seen.push(request);
    return generate(request);
  });
  const ask = (channel: "sms" | "web", ref: string) =>
    inTenant(DEFAULT_TENANT_ID, () =>
      stack.engine.respond({
        identity: { id: `phone:${ref}`, kind: "phone", tier: "free" },
        channel,
        externalRef: ref,
        message: "How do I reset my password?",
      }),
    );
  await ask("sms", "+14155550199");
  await ask("web", "web-ref-1");
  const chats = seen.filter((r) => r.purpose === "chat");
  expect(chats).toHaveLength(2);
  expect(chats[0]?.systemInstruction).toMatch(/SMS text message.*plain text: no Markdown/s);
  expect(chats[1]?.systemInstruction).not.toMatch(/SMS/);
});
