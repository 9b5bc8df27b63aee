import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import {
  type SecretName,
  type SecretRef,
  type SecretStore,
  SecretStoreError,
  secretId,
} from "../ports/secret-store";
import { payloadText, type SecretManagerClientOptions } from "./secret-manager";

export interface SecretManagerStoreOptions {
  /** The project the secrets live in (its id). */
  readonly projectId: string;
  /** Every secret id starts with it: the runtime's IAM grant is conditioned on this prefix (infra). */
  readonly prefix: string;
  /** @default Application Default Credentials over gRPC (tests point it at the emulator) */
  readonly client?: SecretManagerClientOptions;
}

/**
 * One Secret Manager secret per tenant credential (`<prefix><tenant>_<kind>`, automatic replication,
 * labelled with its tenant and kind), one version per value, earlier ones destroyed on rotation. The ref
 * a row keeps is the secret's name, `projects/<project>/secrets/<id>`; reads take its latest version.
 * Every read and write is in Secret Manager's Data Access audit log (on in prod, infra/environments.ts).
 */
export class SecretManagerStore implements SecretStore {
  readonly kind = "secret-manager";
  private readonly client: SecretManagerServiceClient;

  constructor(private readonly opts: SecretManagerStoreOptions) {
    this.client = new SecretManagerServiceClient(opts.client);
  }

  async put(name: SecretName, value: string): Promise<SecretRef> {
    const id = secretId(this.opts.prefix, name);
    const ref = `projects/${this.opts.projectId}/secrets/${id}`;
    await this.call(ref, async () => {
      try {
        await this.client.createSecret({
          parent: `projects/${this.opts.projectId}`,
          secretId: id,
          secret: { replication: { automatic: {} }, labels: labelsOf(name) },
        });
      } catch (error) {
        // A put retried after a crash, or after a delete, finds its secret: the value is its next version.
        if (statusOf(error) !== "already_exists") throw error;
      }
      await this.addVersion(ref, value);
    });
    return ref;
  }

  async get(ref: SecretRef): Promise<string> {
    this.check(ref);
    return this.call(ref, async () => {
      const [version] = await this.client.accessSecretVersion({ name: `${ref}/versions/latest` });
      return payloadText(version, ref);
    });
  }

  async rotate(ref: SecretRef, value: string): Promise<SecretRef> {
    this.check(ref);
    await this.call(ref, async () => {
      const earlier = await this.liveVersions(ref);
      if (earlier.length === 0) throw new SecretStoreError("not_found", `secret ${ref} has no version`);
      await this.addVersion(ref, value);
      // A put retried after a crash may have left more than one earlier version: all of them go.
      for (const name of earlier) await this.client.destroySecretVersion({ name });
    });
    return ref;
  }

  /**
   * Destroys every version; the empty secret stays (it costs nothing, and a later put of the same name
   * reuses it). Deleting the secret itself needs `secretmanager.secrets.delete`, which only comes with
   * roles that may also change a secret's IAM policy: the runtime is not given it (infra).
   */
  async delete(ref: SecretRef): Promise<void> {
    this.check(ref);
    await this.call(ref, async () => {
      try {
        for (const name of await this.liveVersions(ref)) await this.client.destroySecretVersion({ name });
      } catch (error) {
        if (statusOf(error) !== "not_found") throw error;
      }
    });
  }

  /** Names of the versions not yet destroyed, newest first. */
  private async liveVersions(ref: string): Promise<string[]> {
    const [versions] = await this.client.listSecretVersions({ parent: ref });
    return versions
      .filter((v) => ["ENABLED", "DISABLED"].includes(String(v.state)))
      .map((v) => v.name ?? "")
      .filter(Boolean);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async addVersion(ref: string, value: string): Promise<void> {
    await this.client.addSecretVersion({ parent: ref, payload: { data: Buffer.from(value, "utf8") } });
  }

  /** Only this project's secrets under the prefix: a forged ref cannot name another secret. */
  private check(ref: SecretRef): void {
    const base = `projects/${this.opts.projectId}/secrets/${this.opts.prefix}`;
    if (!ref.startsWith(base) || !/^[A-Za-z0-9_-]+$/.test(ref.slice(base.length))) {
      throw new SecretStoreError("invalid_reference", `"${ref}" is not a secret of this store (${base}…)`);
    }
  }

  /** Runs a call, turning the client's errors into SecretStoreErrors that name the secret and the status. */
  private async call<T>(ref: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof SecretStoreError) throw error;
      const status = statusOf(error);
      // No `cause`: the client's error carries the request, and a failed addSecretVersion's request body
      // is the value. A logger that serializes causes would write it out.
      throw new SecretStoreError(
        status === "not_found" || status === "no_live_version" ? "not_found" : "unavailable",
        `Secret Manager failed on ${ref}: ${status}`,
      );
    }
  }
}

/** Label values are lowercase, at most 63 characters. */
function labelsOf(name: SecretName): Record<string, string> {
  return { app: "switchboard", tenant: name.tenantId.toLowerCase().slice(0, 63), credential: name.kind };
}

/**
 * The status of a client error. Over gRPC `code` is the gRPC code (5 NOT_FOUND, 6 ALREADY_EXISTS, 7
 * PERMISSION_DENIED); in REST fallback it is the HTTP status (404, 409, 403) and the body says the rest
 * (test/emulators/secret-manager.ts).
 */
function statusOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 5 || code === 404) return "not_found";
  if (code === 6 || code === 409) return "already_exists";
  if (code === 7 || code === 403) return "permission_denied";
  // The latest version is destroyed or disabled: the credential was deleted.
  if (code === 9 || (code === 400 && String((error as Error).message).includes("FAILED_PRECONDITION"))) {
    return "no_live_version";
  }
  if (code === 16 || code === 401) return "unauthenticated";
  return typeof code === "number" || typeof code === "string" ? `error ${code}` : "unexpected response";
}
