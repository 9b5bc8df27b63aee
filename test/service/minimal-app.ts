import type { AppDeps } from "../../service/src/app";
import type { Sql } from "../../service/src/db/client";
import type { TurnEngine } from "../../service/src/engine/conversation-engine";
import { TenantDirectory } from "../../service/src/engine/tenant-directory";
import type { Authenticator } from "../../service/src/http/auth";
import type { Logger } from "../../service/src/logger";

/**
 * The HTTP app's dependencies with nothing but the chat engine behind it: no admin key, no pipeline, no
 * Intercom gateway, retention refused. Tests add the one part they are about.
 */
export function minimalAppDeps(parts: {
  log: Logger;
  auth: Authenticator;
  sql: Sql;
  engine: TurnEngine;
}): AppDeps {
  const { log, auth, sql, engine } = parts;
  return {
    log,
    auth,
    bodyLimitBytes: 64 * 1024,
    webhookBodyLimitBytes: 1024 * 1024,
    adminApiKey: undefined,
    internalAuth: { mode: "shared", secret: undefined },
    chat: { engine, sql, messageMaxChars: 4000 },
    tenants: new TenantDirectory(sql),
    health: {
      sql,
      databaseKind: "embedded",
      modelProvider: () => ({ name: "fake", circuit: "closed" }),
      knowledgeChunks: 0,
      integrations: {},
      version: "test",
      startedAt: Date.now(),
    },
    pipeline: undefined,
    internal: { retention: () => Promise.reject(new Error("not in this test")) },
    intercom: { admin: { gateway: undefined, sql, erasureKey: Buffer.alloc(32), configured: {} } },
  };
}
