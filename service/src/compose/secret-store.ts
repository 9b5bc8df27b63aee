import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SecretManagerClientOptions } from "../adapters/secret-manager";
import { type Config, ConfigError } from "../config";
import type { Sql } from "../db/client";
import type { Logger } from "../logger";
import type { SecretStore } from "../ports/secret-store";

export interface SecretStoreParts {
  sql: Sql;
  log: Logger;
  /** Where a generated key is kept; undefined: the database lives in memory, and so does the key. */
  keyDir: string | undefined;
  /** A generated key beside an embedded database is the design; beside a shared server it is worth a warning. */
  databaseKind: "server" | "embedded";
  /** Secret Manager client options (tests point the real client at the emulator). */
  secretManagerClientOptions?: SecretManagerClientOptions;
}

export interface BuiltSecretStore {
  store: SecretStore;
  close(): Promise<void>;
}

/**
 * The store of per-tenant credentials, built at start-up so a bad setting stops the process now rather
 * than at a tenant's first credential: Secret Manager under SECRET_STORE_PREFIX, or AES-256-GCM envelopes
 * in the database keyed by SECRET_STORE_KEY (or a key generated once under DATA_DIR, outside production).
 */
export async function buildSecretStore(config: Config, parts: SecretStoreParts): Promise<BuiltSecretStore> {
  if (config.SECRET_STORE === "secret-manager") {
    // Loaded only when used: the client library costs start-up time.
    const { SecretManagerStore } = await import("../adapters/secret-manager-store");
    const store = new SecretManagerStore({
      projectId: config.GOOGLE_CLOUD_PROJECT ?? "",
      prefix: config.SECRET_STORE_PREFIX,
      client: parts.secretManagerClientOptions,
    });
    parts.log.info({ event: "secret_store.ready", kind: store.kind, prefix: config.SECRET_STORE_PREFIX });
    return { store, close: () => store.close() };
  }
  const { DatabaseSecretStore } = await import("../adapters/database-secret-store");
  const { key, source } = await secretStoreKey(config, parts.keyDir);
  const store = new DatabaseSecretStore(parts.sql, { key, prefix: config.SECRET_STORE_PREFIX });
  try {
    await store.verifyKeys();
  } catch (error) {
    throw new ConfigError([`SECRET_STORE_KEY: ${error instanceof Error ? error.message : String(error)}`]);
  }
  // The key id is a fingerprint: it says which key is in use without revealing it.
  parts.log.info({
    event: "secret_store.ready",
    kind: store.kind,
    keyId: store.currentKeyId,
    keySource: source,
  });
  if (source === "file" && parts.databaseKind === "server") {
    parts.log.warn(
      { event: "config.warning" },
      "SECRET_STORE_KEY is not set: tenant credentials are sealed with a key generated on this machine; every instance sharing the database needs it (refused in production)",
    );
  }
  return { store, close: async () => {} };
}

const KEY_FILE = "secret-store-key";

/** The configured key, else the one kept in `keyDir` (generated on first start), else an ephemeral one. */
export async function secretStoreKey(
  config: Config,
  keyDir: string | undefined,
): Promise<{ key: Buffer; source: "configured" | "file" | "ephemeral" }> {
  if (config.SECRET_STORE_KEY)
    return { key: Buffer.from(config.SECRET_STORE_KEY, "base64"), source: "configured" };
  if (!keyDir) return { key: randomBytes(32), source: "ephemeral" };
  const file = join(keyDir, KEY_FILE);
  await createKeyFileOnce(file);
  const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
  if (key.length !== 32) {
    throw new ConfigError([
      `SECRET_STORE_KEY: ${file} does not hold 32 bytes in base64; restore it or set SECRET_STORE_KEY`,
    ]);
  }
  return { key, source: "file" };
}

/**
 * Writes a new random key to `file` (mode 0600) unless it exists. The key is written to a file of its own
 * and linked into place, so processes starting together never read a half-written key, and the first
 * link wins.
 */
async function createKeyFileOnce(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(temp, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temp);
  }
}
