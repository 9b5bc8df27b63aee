import { afterAll, beforeAll, expect, test } from "vitest";
import { SecretManagerSource } from "../../service/src/adapters/secret-manager";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import {
  type SecretManagerEmulator,
  secretManagerClientOptions,
  startSecretManagerEmulator,
} from "../emulators/secret-manager";
import { startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Someone rotated the Intercom token: Intercom accepts only the new one, and the new one is the latest
 * version in Secret Manager, while the running service still holds the old one from start-up.
 */
const NEW_TOKEN = "intercom-token-after-rotation";
const SECRET = "client-secret-for-refresh";

let intercom: IntercomEmulator;
let sm: SecretManagerEmulator;
let source: SecretManagerSource;
let svc: TestService;
let drop: () => Promise<void>;

beforeAll(async () => {
  intercom = await startIntercomEmulator({ token: NEW_TOKEN });
  sm = await startSecretManagerEmulator();
  source = new SecretManagerSource(secretManagerClientOptions(sm));
  sm.setSecret("acme", "intercom-access-token", "intercom-token-before-rotation");
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(
    t.db,
    {
      GOOGLE_CLOUD_PROJECT: "acme",
      INTERCOM_ACCESS_TOKEN: "sm://intercom-access-token",
      INTERCOM_ADMIN_ID: intercom.botAdmin.id,
      INTERCOM_API_BASE: intercom.url,
      INTERCOM_WEBHOOK_SECRET: SECRET,
      POLLING_INTERVAL: "0",
    },
    { secretSource: source },
  );
  sm.setSecret("acme", "intercom-access-token", NEW_TOKEN);
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await source?.close();
  await sm?.close();
  await intercom?.close();
});

test("a 401 from Intercom re-reads the token's latest version once, and the reply goes out", async () => {
  const conv = intercom.createConversation({ body: "How do I reset my password?" });
  const n = signedNotification(
    SECRET,
    "conversation.user.created",
    intercom.webhookItem(conv.id, { parts: "none" }),
  );
  await fetch(`${svc.url}/webhooks/intercom`, { method: "POST", headers: n.headers, body: n.body });
  const deadline = Date.now() + 8000;
  while (intercom.replies(conv.id).length === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 25));
  expect(intercom.replies(conv.id)).toHaveLength(1);
  expect(svc.logs.events("secret.refreshed")).toHaveLength(1);
  const reads = sm.requests.filter((r) => r.path.endsWith("/intercom-access-token/versions/latest:access"));
  expect(reads).toHaveLength(2);
  expect(svc.logs.raw.join("\n")).not.toContain(NEW_TOKEN);
});

test("at most one re-read a minute: a second 401 within the minute retries later without re-reading", async () => {
  const conv = intercom.createConversation({ body: "How do I invite my team?" });
  intercom.failNext({ status: 401, pathIncludes: `/conversations/${conv.id}/reply` });
  const reads = () => sm.requests.filter((r) => r.path.endsWith(":access")).length;
  const before = reads();
  const n = signedNotification(
    SECRET,
    "conversation.user.created",
    intercom.webhookItem(conv.id, { parts: "none" }),
  );
  await fetch(`${svc.url}/webhooks/intercom`, { method: "POST", headers: n.headers, body: n.body });
  const deadline = Date.now() + 10_000;
  while (intercom.replies(conv.id).length === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 25));
  // Answered on the outbox's retry, with the token it had; Secret Manager was not asked again.
  expect(intercom.replies(conv.id)).toHaveLength(1);
  expect(reads()).toBe(before);
  expect(svc.logs.events("upstream.error").some((l) => l.upstream === "intercom" && l.status === 401)).toBe(
    true,
  );
});
