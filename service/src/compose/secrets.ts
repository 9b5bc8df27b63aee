import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Config, type Env, isSecretReference, secretResourceName } from "../config";
import type { Logger } from "../logger";
import type { SecretSource } from "../ports/secret-source";

export const hasSecretReferences = (env: Env) =>
  Object.values(env).some((v) => v !== undefined && isSecretReference(v));

/** Secret Manager, when any variable refers to it. */
export async function secretSourceFor(env: Env): Promise<SecretSource | undefined> {
  if (!hasSecretReferences(env)) return undefined;
  // Loaded only when a reference exists: the client library costs start-up time.
  const { SecretManagerSource } = await import("../adapters/secret-manager");
  return new SecretManagerSource();
}

/** Outside production a missing signing key is generated once and kept beside the embedded data. */
export async function sessionKey(config: Config, persistDir: string | undefined): Promise<string> {
  if (config.SESSION_SIGNING_KEY) return config.SESSION_SIGNING_KEY;
  if (!persistDir) return randomBytes(32).toString("base64url");
  const file = join(persistDir, "session-signing-key");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const key = randomBytes(32).toString("base64url");
    await writeFile(file, key, { mode: 0o600 });
    await chmod(file, 0o600);
    return key;
  }
}

/** Reads the latest value of a variable given as a Secret Manager reference, or undefined. */
export type SecretRefresher = (variable: string) => Promise<string | undefined>;

/**
 * A credential given as a Secret Manager reference is re-read (its latest version) when an upstream
 * rejects it, at most once a minute per variable, so a rotated token is picked up without a restart.
 */
export function secretRefresher(
  env: Env,
  source: SecretSource | undefined,
  log: Logger,
  intervalMs = 60_000,
): SecretRefresher | undefined {
  if (!source) return undefined;
  const lastRead = new Map<string, number>();
  return async (variable) => {
    const ref = env[variable];
    if (!ref || !isSecretReference(ref)) return undefined;
    const now = Date.now();
    if (now - (lastRead.get(variable) ?? 0) < intervalMs) return undefined;
    lastRead.set(variable, now);
    // A pinned version (`@3`, `/versions/3`) is what the operator chose: only `latest` moves.
    const name = secretResourceName(ref, env.GOOGLE_CLOUD_PROJECT);
    if (!name.endsWith("/versions/latest")) return undefined;
    try {
      return await source.access(name);
    } catch (error) {
      log.warn({ event: "secret.refresh_failed", variable, error }, "could not re-read a secret");
      return undefined;
    }
  };
}
