import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { DatabaseSecretStore, secretKeyId } from "../../service/src/adapters/database-secret-store";
import { SecretManagerStore } from "../../service/src/adapters/secret-manager-store";
import type { Database } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { inTenant } from "../../service/src/db/tenant-scope";
import { type SecretStore, SecretStoreError } from "../../service/src/ports/secret-store";
import {
  type SecretManagerEmulator,
  secretManagerClientOptions,
  startSecretManagerEmulator,
} from "../emulators/secret-manager";
import { raw, testDatabase } from "./helpers";

const PROJECT = "switchboard-test";
const PREFIX = "switchboard-tenant-";
const TENANT = "0b6f3c52-8a51-4f0e-9d43-2f1c8f4b7a10";
const OTHER_TENANT = "6d1e9a7c-3b2f-4c55-8e10-9a4b5c6d7e8f";

let t: Awaited<ReturnType<typeof testDatabase>>;
let db: Database;
let sm: SecretManagerEmulator;
const key = randomBytes(32);
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await testDatabase();
  db = t.db;
  await migrate(db.sql);
  // A tenant's secret versions are that tenant's rows: the tenants exist.
  for (const [id, slug] of [
    [TENANT, "secrets-a"],
    [OTHER_TENANT, "secrets-b"],
  ] as const)
    await t.inspect`insert into tenants (id, slug, name, widget_key) values (${id}, ${slug}, ${slug}, ${`pk_${slug}`})`;
  sm = await startSecretManagerEmulator();
});
afterAll(async () => {
  for (const close of closers) await close();
  await sm.close();
  await t.drop();
});

function secretManagerStore(): SecretManagerStore {
  const store = new SecretManagerStore({
    projectId: PROJECT,
    prefix: PREFIX,
    client: secretManagerClientOptions(sm),
  });
  closers.push(() => store.close());
  return store;
}

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<SecretStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretStoreError);
  expect((error as SecretStoreError).code).toBe(code);
  return error as SecretStoreError;
}

const STORES: [string, () => SecretStore][] = [
  ["database", () => new DatabaseSecretStore(db.sql, { key, prefix: PREFIX })],
  ["secret-manager", secretManagerStore],
];

describe.each(STORES)("the %s secret store", (_kind, make) => {
  test("put, get, rotate and delete a tenant credential", async () => {
    const store = make();
    const ref = await store.put({ tenantId: TENANT, kind: "intercom-access-token" }, "tok_first ✓");
    expect(ref).toContain(`${PREFIX}${TENANT}_intercom-access-token`);
    expect(await store.get(ref)).toBe("tok_first ✓");

    expect(await store.rotate(ref, "tok_second")).toBe(ref);
    expect(await store.get(ref)).toBe("tok_second");

    await store.delete(ref);
    await expectStoreError(store.get(ref), "not_found");
    await store.delete(ref); // already gone: still fine
    await expectStoreError(store.rotate(ref, "x"), "not_found");
  });

  test("a put of an existing name stores a new version (a retried put), and tenants do not share secrets", async () => {
    const store = make();
    const a = await store.put({ tenantId: TENANT, kind: "twilio-auth-token" }, "first");
    const again = await store.put({ tenantId: TENANT, kind: "twilio-auth-token" }, "second");
    const b = await store.put({ tenantId: OTHER_TENANT, kind: "twilio-auth-token" }, "other");
    expect(again).toBe(a);
    expect(b).not.toBe(a);
    expect(await store.get(a)).toBe("second");
    expect(await store.get(b)).toBe("other");
    await store.delete(a);
    await store.delete(b);
  });

  test("refuses malformed names and references outside its prefix or of the other store", async () => {
    const store = make();
    await expectStoreError(store.put({ tenantId: "a_b", kind: "token" }, "v"), "invalid_reference");
    await expectStoreError(store.put({ tenantId: TENANT, kind: "Token!" }, "v"), "invalid_reference");
    for (const ref of [
      `projects/${PROJECT}/secrets/session-signing-key`,
      "db:session-signing-key",
      `db:${PREFIX}x/../y`,
      `projects/other/secrets/${PREFIX}x`,
    ]) {
      await expectStoreError(store.get(ref), "invalid_reference");
    }
  });
});

describe("the database secret store", () => {
  const store = () => new DatabaseSecretStore(db.sql, { key, prefix: PREFIX });

  test("holds ciphertext, IV, tag and key id, never the plain text", async () => {
    const value = `sk_live_${randomBytes(12).toString("hex")}`;
    const ref = await store().put({ tenantId: TENANT, kind: "crm-webhook-secret" }, value);
    const rows = await raw(db).unsafe<Record<string, unknown>[]>(
      "select * from secret_versions where secret_id = $1",
      [ref.slice("db:".length)],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(row.keyId).toBe(secretKeyId(key));
    expect((row.iv as Buffer).length).toBe(12);
    expect((row.tag as Buffer).length).toBe(16);
    const dump = JSON.stringify(row, (_k, v: unknown) =>
      v && typeof v === "object" && "type" in v && v.type === "Buffer"
        ? Buffer.from(v as never).toString("latin1")
        : v,
    );
    expect(dump).not.toContain(value);
    expect(dump).not.toContain(Buffer.from(value).toString("base64"));
    expect(dump).not.toContain(Buffer.from(value).toString("hex"));
    await store().delete(ref);
  });

  test("a rotation leaves one version, sealed again with a fresh IV", async () => {
    const ref = await store().put({ tenantId: TENANT, kind: "voxie-api-key" }, "one");
    const id = ref.slice("db:".length);
    const [before] = await raw(db)<{ iv: Buffer }[]>`select iv from secret_versions where secret_id = ${id}`;
    await store().rotate(ref, "two");
    const after = await raw(db)<{ version: number; iv: Buffer }[]>`
      select version, iv from secret_versions where secret_id = ${id}`;
    expect(after.map((r) => r.version)).toEqual([2]);
    expect(after[0]?.iv.equals(before?.iv ?? Buffer.alloc(0))).toBe(false);
    await store().delete(ref);
  });

  test("a wrong key fails closed, naming both key ids and no value", async () => {
    const ref = await store().put({ tenantId: TENANT, kind: "telnyx-api-key" }, "KEY_telnyx_value");
    const wrong = new DatabaseSecretStore(db.sql, { key: randomBytes(32), prefix: PREFIX });
    const error = await expectStoreError(wrong.get(ref), "undecryptable");
    expect(error.message).toContain(secretKeyId(key));
    expect(error.message).toContain(wrong.currentKeyId);
    expect(error.message).not.toContain("KEY_telnyx_value");
    await expect(wrong.verifyKeys()).rejects.toThrow(/sealed with a key that is not configured/);
    await store().verifyKeys();

    // The earlier key still opens its rows once it is given as a previous key (a later key rotation).
    const rotated = new DatabaseSecretStore(db.sql, {
      key: randomBytes(32),
      previousKeys: [key],
      prefix: PREFIX,
    });
    expect(await rotated.get(ref)).toBe("KEY_telnyx_value");
    await store().delete(ref);
  });

  test("a tenant's secret is stored as that tenant's row, whatever scope the caller is in", async () => {
    const ref = await inTenant(OTHER_TENANT, () =>
      store().put({ tenantId: TENANT, kind: "twilio-auth-token" }, "twilio-token-value"),
    );
    const [row] = await raw(db)<{ tenantId: string }[]>`
      select tenant_id::text from secret_versions where secret_id = ${ref.slice("db:".length)}`;
    expect(row?.tenantId).toBe(TENANT);
    expect(await store().get(ref)).toBe("twilio-token-value");
    await expectStoreError(store().get("db:switchboard-tenant-not-a-uuid_token"), "invalid_reference");
    await store().delete(ref);
  });

  test("a tampered row, or one copied under another secret, fails authentication", async () => {
    const s = store();
    const ref = await s.put({ tenantId: TENANT, kind: "gmail-refresh-token" }, "refresh-value");
    const id = ref.slice("db:".length);
    const copy = `${PREFIX}${OTHER_TENANT}_gmail-refresh-token`;
    // Copied as the other tenant's row: only the envelope's additional data can tell it was moved.
    await raw(db)`
      insert into secret_versions (tenant_id, secret_id, version, key_id, iv, ciphertext, tag)
      select ${OTHER_TENANT}, ${copy}, version, key_id, iv, ciphertext, tag
      from secret_versions where secret_id = ${id}`;
    const moved = await expectStoreError(s.get(`db:${copy}`), "undecryptable");
    expect(moved.message).toMatch(/failed authentication/);

    await raw(db)`update secret_versions set ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1)
      where secret_id = ${id}`;
    await expectStoreError(s.get(ref), "undecryptable");
    await s.delete(ref);
    await s.delete(`db:${copy}`);
  });
});

describe("the Secret Manager secret store, on the emulator with the real client", () => {
  beforeEach(() => sm.reset());

  test("one secret per credential: automatic replication, labels, a version per value", async () => {
    const store = secretManagerStore();
    const ref = await store.put({ tenantId: TENANT, kind: "intercom-access-token" }, "tok-1");
    expect(ref).toBe(`projects/${PROJECT}/secrets/${PREFIX}${TENANT}_intercom-access-token`);
    const secret = sm.secrets.get(
      `projects/${sm.projectNumber(PROJECT)}/secrets/${PREFIX}${TENANT}_intercom-access-token`,
    );
    expect(secret?.replication).toEqual({ automatic: {} });
    expect(secret?.labels).toEqual({
      app: "switchboard",
      tenant: TENANT,
      credential: "intercom-access-token",
    });

    await store.rotate(ref, "tok-2");
    const versions = sm.versions(PROJECT, `${PREFIX}${TENANT}_intercom-access-token`);
    expect(versions.map((v) => [v.version, v.state])).toEqual([
      [1, "DESTROYED"],
      [2, "ENABLED"],
    ]);
    expect(await store.get(ref)).toBe("tok-2");

    // Deleting destroys every version (the runtime may not delete secrets); a later put reuses the secret.
    await store.delete(ref);
    expect(sm.versions(PROJECT, `${PREFIX}${TENANT}_intercom-access-token`).map((v) => v.state)).toEqual([
      "DESTROYED",
      "DESTROYED",
    ]);
    await store.put({ tenantId: TENANT, kind: "intercom-access-token" }, "tok-3");
    expect(await store.get(ref)).toBe("tok-3");
    const create = sm.requests.find((r) => r.method === "POST" && r.path.endsWith("/secrets"));
    expect(create?.query.secretId).toBe(`${PREFIX}${TENANT}_intercom-access-token`);
  });

  test("a denied or failing call is a SecretStoreError naming the secret and the status, never the value", async () => {
    const store = secretManagerStore();
    const ref = await store.put({ tenantId: TENANT, kind: "crm-webhook-secret" }, "whsec_value_123");
    sm.deny(ref);
    const denied = await expectStoreError(store.get(ref), "unavailable");
    expect(denied.message).toContain(ref);
    expect(denied.message).toContain("permission_denied");
    expect(denied.message).not.toContain("whsec_value_123");

    sm.reset();
    // The failed call is the one whose request body holds the value: nothing of it may travel with the error.
    sm.failNext({ status: "UNAVAILABLE", pathIncludes: ":addVersion" });
    const down = await expectStoreError(
      store.put({ tenantId: TENANT, kind: "x" }, "whsec_value_123"),
      "unavailable",
    );
    const shown = `${inspect(down, { depth: 20, showHidden: true })}${JSON.stringify(down)}`;
    expect(shown).not.toContain("whsec_value_123");
    expect(shown).not.toContain(Buffer.from("whsec_value_123").toString("base64"));
  });
});
