import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { Sql } from "../db/client";
import { secretVersionsByKey } from "../db/platform-secrets";
import {
  addSecretVersion,
  deleteSecretVersions,
  latestSecretVersion,
  type SealedVersion,
  secretExists,
} from "../db/secret-versions";
import { DEFAULT_TENANT_ID, inTenant } from "../db/tenant-scope";
import {
  type SecretName,
  type SecretRef,
  type SecretStore,
  SecretStoreError,
  secretId,
} from "../ports/secret-store";

const REF_PREFIX = "db:";
const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * A key's id: a short fingerprint, stored with every row it seals. It reveals nothing of a 256-bit key,
 * and lets a wrong key be told apart from a tampered row.
 */
export function secretKeyId(key: Buffer): string {
  return createHash("sha256").update("switchboard secret store key\0").update(key).digest("hex").slice(0, 16);
}

export interface DatabaseSecretStoreOptions {
  /** The 32-byte AES-256 key that seals new versions. */
  readonly key: Buffer;
  /**
   * Keys that only open rows (an earlier key, during a rotation); none seals.
   * @default []
   */
  readonly previousKeys?: readonly Buffer[];
  /** @default "" (the database is this deployment's own; the prefix matters for Secret Manager) */
  readonly prefix?: string;
}

/**
 * AES-256-GCM envelopes in `secret_versions` (migration 00005): a random 96-bit IV per version, the
 * 128-bit tag, and the secret id and version as additional data, so a row moved to another secret or
 * version fails authentication. Values are never logged and never leave this module but as `get`'s result.
 */
export class DatabaseSecretStore implements SecretStore {
  readonly kind = "database";
  private readonly key: Buffer;
  private readonly keyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly prefix: string;

  constructor(
    private readonly sql: Sql,
    opts: DatabaseSecretStoreOptions,
  ) {
    for (const key of [opts.key, ...(opts.previousKeys ?? [])]) {
      if (key.length !== KEY_BYTES)
        throw new Error(`a secret store key is ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.key = opts.key;
    this.keyId = secretKeyId(opts.key);
    this.keys = new Map([...(opts.previousKeys ?? []), opts.key].map((k) => [secretKeyId(k), k]));
    this.prefix = opts.prefix ?? "";
  }

  /** The id of the key that seals new versions (a fingerprint, safe to log). */
  get currentKeyId(): string {
    return this.keyId;
  }

  /**
   * Fails when stored versions are sealed with a key this store does not hold (a lost or replaced key),
   * so start-up says so instead of every later read.
   */
  async verifyKeys(): Promise<void> {
    const unknown = (await secretVersionsByKey(this.sql)).filter((k) => !this.keys.has(k.keyId));
    if (unknown.length === 0) return;
    const list = unknown.map((k) => `${k.versions} with key ${k.keyId}`).join(", ");
    throw new SecretStoreError(
      "undecryptable",
      `stored tenant credentials are sealed with a key that is not configured (${list}; SECRET_STORE_KEY is key ${this.keyId}): restore the key they were sealed with`,
    );
  }

  async put(name: SecretName, value: string): Promise<SecretRef> {
    const id = secretId(this.prefix, name);
    await this.inTenantOf(id, () =>
      addSecretVersion(this.sql, id, (version) => this.seal(id, version, value)),
    );
    return `${REF_PREFIX}${id}`;
  }

  async get(ref: SecretRef): Promise<string> {
    const id = this.idOf(ref);
    const row = await this.inTenantOf(id, () => latestSecretVersion(this.sql, id));
    if (!row) throw new SecretStoreError("not_found", `secret ${ref} does not exist`);
    return this.open(id, row.version, row);
  }

  async rotate(ref: SecretRef, value: string): Promise<SecretRef> {
    const id = this.idOf(ref);
    await this.inTenantOf(id, async () => {
      if (!(await secretExists(this.sql, id))) {
        throw new SecretStoreError("not_found", `secret ${ref} does not exist`);
      }
      await addSecretVersion(this.sql, id, (version) => this.seal(id, version, value), { replace: true });
    });
    return ref;
  }

  async delete(ref: SecretRef): Promise<void> {
    const id = this.idOf(ref);
    await this.inTenantOf(id, () => deleteSecretVersions(this.sql, id));
  }

  /**
   * Runs `work` in the scope of the tenant the secret belongs to (its id names it: `<prefix><tenant>_<kind>`),
   * so the versions are stored as, and only readable by, that tenant, whatever scope the caller is in.
   */
  private inTenantOf<T>(id: string, work: () => Promise<T>): Promise<T> {
    const tenant = id.slice(this.prefix.length).split("_")[0] ?? "";
    if (tenant === "default") return inTenant(DEFAULT_TENANT_ID, work);
    if (!UUID.test(tenant)) {
      throw new SecretStoreError(
        "invalid_reference",
        "the database secret store keeps a tenant's credentials under its id (a uuid) or `default`",
      );
    }
    return inTenant(tenant.toLowerCase(), work);
  }

  private idOf(ref: SecretRef): string {
    const id = ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : "";
    if (!id.startsWith(this.prefix) || !/^[A-Za-z0-9_-]{1,255}$/.test(id)) {
      throw new SecretStoreError(
        "invalid_reference",
        `"${ref}" is not a reference of this database secret store`,
      );
    }
    return id;
  }

  private seal(id: string, version: number, value: string): SealedVersion {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(additionalData(id, version));
    const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    return { keyId: this.keyId, iv, ciphertext, tag: cipher.getAuthTag() };
  }

  private open(id: string, version: number, row: SealedVersion): string {
    const key = this.keys.get(row.keyId);
    if (!key) {
      throw new SecretStoreError(
        "undecryptable",
        `secret db:${id} is sealed with key ${row.keyId}, which is not configured (SECRET_STORE_KEY is key ${this.keyId})`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, row.iv);
      decipher.setAAD(additionalData(id, version));
      decipher.setAuthTag(row.tag);
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new SecretStoreError(
        "undecryptable",
        `secret db:${id} version ${version} failed authentication (the row was altered)`,
        { cause: error },
      );
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const additionalData = (id: string, version: number) => Buffer.from(`${id}\0${version}`, "utf8");
