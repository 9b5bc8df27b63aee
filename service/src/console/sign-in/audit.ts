import type { Context } from "hono";
import type { Sql } from "../../db/client";
import { appendPlatformAudit } from "../../db/platform";
import type { ConsoleViewer } from "../../domain/identity";
import type { AppEnv } from "../../http/app-env";
import { principalOf } from "../session";

/**
 * Sign-in, refusal and sign-out in the platform audit log (no tenant: a person may work for several):
 * who, with which role, from where, through which issuer; never a token.
 */
export function auditSignIn(
  c: Context<AppEnv>,
  sql: Sql,
  action: "console.signed_in" | "console.sign_in_refused" | "console.signed_out",
  actor: string,
  viewer: ConsoleViewer | undefined,
  summary: Record<string, unknown>,
): Promise<void> {
  return appendPlatformAudit(sql, {
    actor,
    role: (viewer && principalOf(viewer).role) ?? "none",
    action,
    target: viewer?.sessionId ?? null,
    requestId: c.get("requestId"),
    clientAddress: c.get("clientAddress"),
    summary,
  });
}
