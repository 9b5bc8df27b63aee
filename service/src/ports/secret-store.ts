/**
 * Where per-tenant credentials live (an Intercom token, a Twilio auth token, a CRM webhook secret ...):
 * Secret Manager in production, an AES-256-GCM envelope in the database locally and in tests. A tenant's
 * row keeps only the `SecretRef` that `put` returns, never the value.
 *
 * This is the write side of what `SecretSource` (secret-source.ts) reads for the deployment's own
 * settings: those secrets are created by Terraform and read once at start-up; these are created, rotated
 * and deleted by the service while it runs.
 */
export interface SecretStore {
  /** `secret-manager` or `database`: for start-up logs and health, never for branching. */
  readonly kind: string;
  /**
   * Stores a credential as the first version of a new secret named after its tenant and kind; a secret
   * of that name that already exists gets the value as a new version (a retried `put` is not an error).
   */
  put(name: SecretName, value: string): Promise<SecretRef>;
  /** The latest value. Fails closed (`SecretStoreError`) when it cannot be read or authenticated. */
  get(ref: SecretRef): Promise<string>;
  /**
   * Stores a new value as the secret's latest version and destroys the earlier ones: a rotated credential
   * is revoked at its provider, so its old value has no reason to stay. The ref does not change.
   */
  rotate(ref: SecretRef, value: string): Promise<SecretRef>;
  /**
   * Destroys every version, so the value is gone for good; a store may keep the empty secret (Secret
   * Manager does). Deleting a secret that is already gone succeeds.
   */
  delete(ref: SecretRef): Promise<void>;
}

/** What a credential is: whose, and which of its credentials. */
export interface SecretName {
  /** The tenant's id (a uuid, or a slug such as `default`): letters, digits and `-`. */
  readonly tenantId: string;
  /** The credential's kind, e.g. `intercom-access-token`: lowercase letters, digits and `-`. */
  readonly kind: string;
}

/**
 * The opaque reference a row keeps: `projects/<number>/secrets/<id>` for Secret Manager, `db:<id>` for
 * the database store. A store refuses a reference of the other kind.
 */
export type SecretRef = string;

export type SecretStoreErrorCode =
  /** The secret, or its latest version, does not exist. */
  | "not_found"
  /** The name or reference is malformed, or belongs to another store or prefix. */
  | "invalid_reference"
  /** The stored value cannot be decrypted: a wrong or missing key, or a tampered row. */
  | "undecryptable"
  /** The backend refused or failed (permissions, quota, network). */
  | "unavailable";

/** A failure that names the secret and the reason, never the value. */
export class SecretStoreError extends Error {
  constructor(
    readonly code: SecretStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SecretStoreError";
  }
}

const TENANT_ID = /^[A-Za-z0-9-]{1,64}$/;
const KIND = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * The secret id of a credential: `<prefix><tenant id>_<kind>`. Tenant ids carry no `_`, so no two
 * (tenant, kind) pairs share an id, and every id starts with the prefix the runtime's IAM grant names.
 */
export function secretId(prefix: string, name: SecretName): string {
  if (!TENANT_ID.test(name.tenantId)) {
    throw new SecretStoreError("invalid_reference", "a tenant id is letters, digits and '-' (at most 64)");
  }
  if (!KIND.test(name.kind)) {
    throw new SecretStoreError(
      "invalid_reference",
      `credential kind "${name.kind}" must be lowercase letters, digits and '-'`,
    );
  }
  return `${prefix}${name.tenantId}_${name.kind}`;
}
