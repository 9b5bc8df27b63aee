/**
 * In-memory storage for the test OpenID provider (test/emulators/oidc.ts): one store per provider instance,
 * so two providers in one test process share nothing (oidc-provider's own development adapter keeps a
 * module-wide store and warns on the console when used).
 *
 * The client is not stored: `Client` lookups return the fixture's current client metadata, so a test can
 * change the redirect URIs after start (the service's port is known only once it listens). oidc-provider
 * re-validates dynamic client metadata whenever it changes.
 */
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider";

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; undefined: no expiry. */
  expiresAt: number | undefined;
}

/** Models whose entries belong to a grant and go when it is revoked (a reused code revokes its tokens). */
const GRANT_MEMBERS = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode"]);

export function memoryStore(
  clientMetadata: (clientId: string) => AdapterPayload | undefined,
): AdapterFactory {
  const entries = new Map<string, Entry>();
  const sessionByUid = new Map<string, string>();
  const grantMembers = new Map<string, Set<string>>();

  const live = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry?.payload;
  };

  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : undefined;
        entries.set(key(id), { payload, expiresAt });
        if (model === "Session" && payload.uid) sessionByUid.set(payload.uid, id);
        if (GRANT_MEMBERS.has(model) && payload.grantId) {
          const members = grantMembers.get(payload.grantId) ?? new Set<string>();
          grantMembers.set(payload.grantId, members.add(key(id)));
        }
      },
      async find(id) {
        return model === "Client" ? clientMetadata(id) : live(key(id));
      },
      async findByUid(uid) {
        const id = sessionByUid.get(uid);
        return id === undefined ? undefined : live(key(id));
      },
      async findByUserCode() {
        return undefined; // the device flow is not enabled
      },
      async consume(id) {
        const payload = live(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const member of grantMembers.get(grantId) ?? []) entries.delete(member);
        grantMembers.delete(grantId);
      },
    };
  };
}
