import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SecretManagerSource } from "../../service/src/adapters/secret-manager";
import { ConfigError, loadConfig, parseConfig } from "../../service/src/config";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import {
  type SecretManagerEmulator,
  secretManagerClientOptions,
  startSecretManagerEmulator,
} from "../emulators/secret-manager";
import { startTestService, testDatabase } from "./helpers";

describe("configuration", () => {
  test("an empty environment is a working local setup with the brief's defaults", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      MODEL_PROVIDER: "auto",
      MODEL_DEFAULT: "gemini-2.5-flash",
      MODEL_ESCALATION: "gemini-2.5-pro",
      CHAT_TEMPERATURE: 0.3,
      SUMMARY_TEMPERATURE: 0.1,
      CHAT_MAX_OUTPUT_TOKENS: 8000,
      HISTORY_MAX_MESSAGES: 10,
      HISTORY_MAX_TOKENS: 4000,
      RATE_LIMIT_USER_PER_MINUTE: 100,
      MODEL_REQUESTS_PER_MINUTE: 500,
      MODEL_TOKENS_PER_MINUTE: 2_000_000,
      DATABASE_POOL_MAX: 5,
      PII_REDACTION: true,
      BUDGET_WARN_RATIO: 0.8,
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.BUDGETS.guest).toEqual({ daily: 10_000, monthly: null });
    expect(c.BUDGETS.enterprise).toEqual({ daily: null, monthly: null });
  });

  test("JSON settings are validated, and booleans read the usual spellings", () => {
    expect(() => parseConfig({ MODEL_PRICES: "{not json" })).toThrow(/MODEL_PRICES: must be valid JSON/);
    expect(() => parseConfig({ BUDGETS: '{"guest":{"daily":-1,"monthly":null}}' })).toThrow(/BUDGETS/);
    expect(parseConfig({ PII_REDACTION: "off" }).PII_REDACTION).toBe(false);
    expect(() => parseConfig({ PII_REDACTION: "maybe" })).toThrow(/PII_REDACTION/);
  });

  test("production requires a session signing key", () => {
    expect(() => parseConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => parseConfig({ NODE_ENV: "production" })).toThrow(/SESSION_SIGNING_KEY/);
  });
});

describe("Secret Manager references, resolved at start-up with the real client", () => {
  let sm: SecretManagerEmulator;
  let gemini: GeminiEmulator;
  let source: SecretManagerSource;
  beforeAll(async () => {
    sm = await startSecretManagerEmulator();
    gemini = await startGeminiEmulator();
    source = new SecretManagerSource(secretManagerClientOptions(sm));
    sm.setSecret("acme-prod", "gemini-api-key", gemini.apiKey);
    sm.setSecret("acme-prod", "session-signing-key", "x".repeat(40));
    sm.setSecret("acme-prod", "session-signing-key", "signing-key-version-2-0123456789abcdefgh");
  });
  afterAll(async () => {
    await source?.close();
    await sm?.close();
    await gemini?.close();
  });

  test("sm://NAME, sm://NAME@VERSION and full resource names", async () => {
    const c = await loadConfig(
      {
        GOOGLE_CLOUD_PROJECT: "acme-prod",
        GEMINI_API_KEY: "sm://gemini-api-key",
        SESSION_SIGNING_KEY: "sm://session-signing-key@1",
        JWT_SECRET: "projects/acme-prod/secrets/session-signing-key/versions/latest",
      },
      source,
    );
    expect(c.GEMINI_API_KEY).toBe(gemini.apiKey);
    expect(c.SESSION_SIGNING_KEY).toBe("x".repeat(40));
    expect(c.JWT_SECRET).toBe("signing-key-version-2-0123456789abcdefgh");
    const accessed = sm.requests.filter((r) => r.path.endsWith(":access")).map((r) => r.path);
    expect(accessed).toEqual(
      expect.arrayContaining([
        "/v1/projects/acme-prod/secrets/gemini-api-key/versions/latest:access",
        "/v1/projects/acme-prod/secrets/session-signing-key/versions/1:access",
      ]),
    );
  });

  test("a missing or disabled secret stops start-up with the variable and reference named", async () => {
    sm.setSecret("acme-prod", "old-key", "value-that-must-not-leak");
    sm.setVersionState("acme-prod", "old-key", 1, "DISABLED");
    const error = await loadConfig(
      { GOOGLE_CLOUD_PROJECT: "acme-prod", GEMINI_API_KEY: "sm://nope", JWT_SECRET: "sm://old-key" },
      source,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain("GEMINI_API_KEY: could not read sm://nope");
    expect(message).toContain("JWT_SECRET: could not read sm://old-key");
    expect(message).not.toContain("value-that-must-not-leak");
  });

  test("sm:// without a project is a configuration error", async () => {
    await expect(loadConfig({ GEMINI_API_KEY: "sm://gemini-api-key" }, source)).rejects.toThrow(
      /GOOGLE_CLOUD_PROJECT/,
    );
  });

  test("the service starts on the resolved key and talks to Gemini with it", async () => {
    const t = await testDatabase();
    const svc = await startTestService(
      t.db,
      {
        MODEL_PROVIDER: "gemini",
        GOOGLE_CLOUD_PROJECT: "acme-prod",
        GEMINI_API_KEY: "sm://gemini-api-key",
        GOOGLE_GEMINI_BASE_URL: gemini.url,
        ADMIN_API_KEY: "config-test-admin-key-0123456789",
      },
      { secretSource: source },
    );
    try {
      const res = await svc.post("/api/v1/chat", { message: "hello" });
      expect(res.status).toBe(200);
      expect(gemini.requests.some((r) => r.headers["x-goog-api-key"] === gemini.apiKey)).toBe(true);
      const admin = { authorization: "Bearer config-test-admin-key-0123456789" };
      const health = (await (await svc.get("/api/v1/health", admin)).json()) as {
        integrations: Record<string, boolean>;
      };
      expect(health.integrations).toMatchObject({ gemini: true, secretManager: true });
      expect(svc.logs.raw.join("\n")).not.toContain(gemini.apiKey);
    } finally {
      await svc.close();
      await t.drop();
    }
  });
});

describe("documentation", () => {
  test("the configuration table (docs/configuration.md) documents every variable the service reads", async () => {
    const { readFile } = await import("node:fs/promises");
    const { configSchema } = await import("../../service/src/config");
    const table = await readFile("docs/configuration.md", "utf8");
    const documented = new Set([...table.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]));
    const missing = Object.keys(configSchema.shape).filter((key) => !documented.has(key));
    expect(missing).toEqual([]);
  });

  test("the configuration table documents no variable the service does not read", async () => {
    const { readFile } = await import("node:fs/promises");
    const { configSchema } = await import("../../service/src/config");
    const table = await readFile("docs/configuration.md", "utf8");
    const documented = [...table.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1] ?? "");
    const known = new Set(Object.keys(configSchema.shape));
    expect(documented.filter((key) => !known.has(key))).toEqual([]);
  });
});
