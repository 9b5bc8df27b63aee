import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConfigError } from "../../service/src/config";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import { startService } from "../../service/src/main";
import {
  type SecretManagerEmulator,
  secretManagerClientOptions,
  startSecretManagerEmulator,
} from "../emulators/secret-manager";
import { baseEnv, configIssues, LogCapture, startTestService, testDatabase } from "./helpers";

// The default tenant: it exists from the migrations on, and its secret versions are its rows.
const TENANT = DEFAULT_TENANT_ID;

let t: Awaited<ReturnType<typeof testDatabase>>;
let dataDir: string;

beforeAll(async () => {
  t = await testDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "switchboard-secret-store-"));
});
afterAll(async () => {
  await t.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("the secret store is built at start-up", () => {
  test("the database store with the configured key: values round-trip and never reach a log line", async () => {
    const running = await startTestService(t.db);
    const value = `xoxb-${randomBytes(16).toString("hex")}`;
    try {
      expect(running.secretStore.kind).toBe("database");
      const ref = await running.secretStore.put({ tenantId: TENANT, kind: "intercom-access-token" }, value);
      expect(await running.secretStore.get(ref)).toBe(value);
      await running.secretStore.rotate(ref, `${value}-2`);
      await running.secretStore.delete(ref);
      const ready = running.logs.events("secret_store.ready")[0];
      expect(ready).toMatchObject({ kind: "database", keySource: "configured" });
      expect(ready?.keyId).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      await running.close();
    }
    const all = running.logs.raw.join("\n");
    expect(all).not.toContain(value);
    expect(all).not.toContain(baseEnv.SECRET_STORE_KEY);
  });

  test("without a key: one is generated into DATA_DIR (0600) on first start and reused after", async () => {
    const env = { SECRET_STORE_KEY: "", DATA_DIR: dataDir };
    const first = await startTestService(t.db, env);
    let ref: string;
    try {
      ref = await first.secretStore.put({ tenantId: TENANT, kind: "telnyx-api-key" }, "KEY0123");
      // Beside an embedded database the generated key is the design; a shared server gets a warning.
      const warnings = first.logs.events("config.warning").map((l) => String(l.message));
      expect(/SECRET_STORE_KEY is not set/.test(warnings.join("\n"))).toBe(t.db.kind === "server");
      expect(first.logs.events("secret_store.ready")[0]).toMatchObject({ keySource: "file" });
    } finally {
      await first.close();
    }
    const file = join(dataDir, "secret-store-key");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, "utf8")).trim(), "base64")).toHaveLength(32);

    const second = await startTestService(t.db, env);
    try {
      expect(await second.secretStore.get(ref)).toBe("KEY0123");
      await second.secretStore.delete(ref);
    } finally {
      await second.close();
    }
  });

  test("stored credentials sealed with another key stop start-up with a clear error, and no value", async () => {
    const first = await startTestService(t.db);
    const ref = await first.secretStore.put(
      { tenantId: TENANT, kind: "voxie-api-key" },
      "voxie-secret-value",
    );
    await first.close();
    const logs = new LogCapture();
    const error = await startService(
      { ...baseEnv, SECRET_STORE_KEY: randomBytes(32).toString("base64") },
      { database: t.db, logDestination: logs },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/SECRET_STORE_KEY: .*sealed with a key that is not configured/);
    expect((error as Error).message).not.toContain("voxie-secret-value");

    const again = await startTestService(t.db);
    await again.secretStore.delete(ref);
    await again.close();
  });

  describe("Secret Manager", () => {
    let sm: SecretManagerEmulator;
    beforeAll(async () => {
      sm = await startSecretManagerEmulator();
    });
    afterAll(async () => {
      await sm.close();
    });

    test("SECRET_STORE=secret-manager builds the store on the project and prefix", async () => {
      const running = await startTestService(
        t.db,
        {
          SECRET_STORE: "secret-manager",
          GOOGLE_CLOUD_PROJECT: "switchboard-test",
          SECRET_STORE_PREFIX: "sb-t-",
        },
        { secretManagerClientOptions: secretManagerClientOptions(sm) },
      );
      try {
        expect(running.secretStore.kind).toBe("secret-manager");
        const ref = await running.secretStore.put(
          { tenantId: TENANT, kind: "crm-webhook-secret" },
          "whsec_1",
        );
        expect(ref).toBe(`projects/switchboard-test/secrets/sb-t-${TENANT}_crm-webhook-secret`);
        expect(await running.secretStore.get(ref)).toBe("whsec_1");
        expect(running.logs.events("secret_store.ready")[0]).toMatchObject({
          kind: "secret-manager",
          prefix: "sb-t-",
        });
      } finally {
        await running.close();
      }
      expect(running.logs.raw.join("\n")).not.toContain("whsec_1");
    });
  });
});

describe("secret store settings", () => {
  const issues = configIssues;

  test("production refuses the database store without a configured key, and accepts one or Secret Manager", () => {
    const prod = { NODE_ENV: "production", SESSION_SIGNING_KEY: "x".repeat(32) };
    expect(issues(prod)).toEqual([
      "SECRET_STORE_KEY: is required in production with SECRET_STORE=database (or set SECRET_STORE=secret-manager, as the Cloud deployment does)",
    ]);
    expect(issues({ ...prod, SECRET_STORE_KEY: randomBytes(32).toString("base64") })).toEqual([]);
    expect(issues({ ...prod, SECRET_STORE: "secret-manager", GOOGLE_CLOUD_PROJECT: "p" })).toEqual([]);
  });

  test("Secret Manager needs the project; a malformed key is refused without echoing it; the prefix is checked", () => {
    expect(issues({ SECRET_STORE: "secret-manager" })).toEqual([
      "GOOGLE_CLOUD_PROJECT: is required when SECRET_STORE=secret-manager",
    ]);
    const short = randomBytes(16).toString("base64");
    const bad = issues({ SECRET_STORE_KEY: short });
    expect(bad).toEqual(["SECRET_STORE_KEY: must be 32 random bytes in base64 (openssl rand -base64 32)"]);
    expect(bad.join()).not.toContain(short);
    expect(issues({ SECRET_STORE_PREFIX: "tenant" })[0]).toMatch(/^SECRET_STORE_PREFIX: must be letters/);
    expect(issues({ SECRET_STORE_PREFIX: "tenant-" })).toEqual([]);
  });
});
