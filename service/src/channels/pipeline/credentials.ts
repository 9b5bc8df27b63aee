import { appendAudit } from "../../db/audit";
import type { Sql } from "../../db/client";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import { type SecretStore, SecretStoreError } from "../../ports/secret-store";

/** A tenant's channel connection, as far as reading its credentials goes. */
export interface CredentialOwner {
  id: string;
  tenantId: string;
  /** The connection's kind (`intercom`, `twilio`, …): named in the audit row. */
  kind: string;
  /** Credential name → SecretStore reference. */
  secretRefs: Record<string, string>;
}

/**
 * Reads one of a connection's credentials from the secret store, and puts the read on the tenant's audit
 * log (issue 12): which credential of which connection, never its value. Reads are rare: once when a
 * connection's channel is built, again when the provider refuses what was read.
 */
export async function readCredential(
  deps: { sql: Sql; secrets: SecretStore },
  c: CredentialOwner,
  credential: string,
): Promise<string> {
  const value = await deps.secrets.get(c.secretRefs[credential] ?? "");
  await inTenant(c.tenantId, () =>
    appendAudit(deps.sql, {
      actor: "switchboard",
      role: "service",
      action: "credential.read",
      target: c.id,
      summary: { kind: c.kind, credential },
    }),
  );
  return value;
}

/**
 * Builds something from a connection's credentials. The secret store being unavailable is thrown (the
 * caller, or the provider's retry, comes back); credentials missing or unreadable for good mean the
 * connection cannot work: logged, and undefined (treated as not connected).
 */
export async function unlessCredentialsGone<T>(
  log: Logger,
  connectionId: string,
  build: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await build();
  } catch (error) {
    if (!(error instanceof SecretStoreError) || error.code === "unavailable") throw error;
    log.warn(
      { event: "channel.credentials_unreadable", connectionId, code: error.code },
      "a channel connection's credentials cannot be read; it is treated as not connected",
    );
    return undefined;
  }
}
