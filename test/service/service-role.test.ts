import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type CloudTasksEmulator,
  cloudTasksClientOptions,
  startCloudTasksEmulator,
} from "../emulators/cloud-tasks";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import { raw, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * SERVICE_ROLE: the same image as the public service (everything but /internal/*) and as the internal
 * worker (/internal/* and health only) that Cloud Tasks call at WORKER_URL; `all` serves both, as locally.
 * Three services on one database, with the Cloud Tasks and Intercom emulators, over HTTP.
 */
const QUEUE = "projects/acme-prod/locations/europe-west1/queues/switchboard-outbox";
const INVOKER = "switchboard-invoker@acme-prod.iam.gserviceaccount.com";
const PUBLIC_URL = "https://switchboard-123456789.europe-west1.run.app";
const WORKER_URL = "https://switchboard-worker-123456789.europe-west1.run.app";
const SECRET = "intercom-client-secret";

let tasks: CloudTasksEmulator;
let intercom: IntercomEmulator;
let jwks: Server;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let publicSvc: TestService;
let worker: TestService;
let all: TestService;
let drop: () => Promise<void>;

const invokerToken = (aud: string, email = INVOKER) =>
  new SignJWT({ email, email_verified: true })
    .setProtectedHeader({ alg: "RS256", kid: "test-key" })
    .setIssuer("https://accounts.google.com")
    .setAudience(aud)
    .setSubject("1234567890")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  privateKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  jwks = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  tasks = await startCloudTasksEmulator({ queues: [QUEUE] });
  intercom = await startIntercomEmulator();
  const t = await testDatabase();
  drop = t.drop;
  // What infra sets on both Cloud Run services; only SERVICE_ROLE differs.
  const cloud = {
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: SECRET,
    TASK_QUEUE: "cloud-tasks",
    CLOUD_TASKS_QUEUE: QUEUE,
    TASKS_INVOKER_SA: INVOKER,
    PUBLIC_URL,
    GOOGLE_OIDC_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`,
  };
  const opts = { cloudTasksClientOptions: cloudTasksClientOptions(tasks) };
  [publicSvc, worker, all] = await Promise.all([
    startTestService(t.db, { ...cloud, WORKER_URL, SERVICE_ROLE: "public" }, opts),
    startTestService(t.db, { ...cloud, WORKER_URL, SERVICE_ROLE: "worker" }, opts),
    startTestService(t.db, cloud, opts),
  ]);
  tasks.tokenFor = (oidc) => invokerToken(oidc.audience ?? "", oidc.serviceAccountEmail ?? "");
  // Cloud Tasks would reach the worker at its URL; here that is the worker's test port.
  tasks.fetch = (url, init) => fetch(url.replace(WORKER_URL, worker.url), init);
});
afterAll(async () => {
  await Promise.all([publicSvc?.close(), worker?.close(), all?.close()]);
  await drop?.();
  await tasks?.close();
  await intercom?.close();
  await new Promise((resolve) => jwks?.close(resolve));
});

async function expectUniform404(res: Response) {
  expect(res.status).toBe(404);
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
  expect(body.error).toEqual({
    code: "not_found",
    message: expect.any(String),
    requestId: expect.any(String),
  });
  expect(res.headers.get("x-request-id")).toBe(body.error.requestId);
}

const post = (svc: TestService, path: string, headers: Record<string, string> = {}) =>
  fetch(`${svc.url}${path}`, { method: "POST", headers });

describe("SERVICE_ROLE=public", () => {
  test("serves the chat, widget, webhooks, admin API and health", async () => {
    expect((await publicSvc.get("/healthz")).status).toBe(200);
    expect((await publicSvc.get("/api/v1/health")).status).toBe(200);
    expect((await publicSvc.get("/")).status).toBe(200);
    expect((await publicSvc.get("/widget.js")).status).toBe(200);
    expect((await publicSvc.post("/api/v1/chat", { message: "How do I reset my password?" })).status).toBe(
      200,
    );
    expect((await publicSvc.get("/intercom/health")).status).toBe(401);
    expect((await publicSvc.get("/openapi.json")).status).toBe(200);
  });

  test("/internal/* is 404 with the uniform body, even with the invoker's valid token", async () => {
    const auth = { authorization: `Bearer ${await invokerToken(PUBLIC_URL)}` };
    await expectUniform404(await post(publicSvc, "/internal/poll", auth));
    await expectUniform404(await post(publicSvc, `/internal/tasks/outbox/${crypto.randomUUID()}`, auth));
    await expectUniform404(await post(publicSvc, "/%69nternal/poll", auth));
    await expectUniform404(await post(publicSvc, "/internal", auth));
  });
});

describe("SERVICE_ROLE=worker", () => {
  test("serves /internal/* (still authenticated) and the two health endpoints, with details", async () => {
    expect((await worker.get("/healthz")).status).toBe(200);
    const health = await worker.get("/api/v1/health");
    expect(health.status).toBe(200);
    // Internal ingress only: every caller of the worker is inside the project.
    expect(await health.json()).toMatchObject({ status: "healthy", integrations: { intercom: true } });
    expect((await post(worker, "/internal/poll")).status).toBe(401);
    const auth = { authorization: `Bearer ${await invokerToken(WORKER_URL)}` };
    const poll = await post(worker, "/internal/poll", auth);
    expect(poll.status).toBe(200);
    expect(await poll.json()).toMatchObject({ conversations: expect.any(Number) });
  });

  test("everything else is 404 with the uniform body", async () => {
    await expectUniform404(await worker.get("/"));
    await expectUniform404(await worker.get("/widget.js"));
    await expectUniform404(await worker.get("/openapi.json"));
    await expectUniform404(await worker.post("/api/v1/chat", { message: "hello" }));
    await expectUniform404(await worker.get(`/api/v1/sessions/${crypto.randomUUID()}/messages`));
    await expectUniform404(await worker.post("/webhooks/intercom", { type: "notification_event" }));
    await expectUniform404(await worker.get("/intercom/health"));
  });
});

describe("SERVICE_ROLE=all (the default)", () => {
  test("serves both the public surface and /internal/*", async () => {
    expect((await all.post("/api/v1/chat", { message: "How do I reset my password?" })).status).toBe(200);
    expect((await all.get("/")).status).toBe(200);
    const auth = { authorization: `Bearer ${await invokerToken(PUBLIC_URL)}` };
    expect((await post(all, "/internal/poll", auth)).status).toBe(200);
  });
});

describe("public and worker together", () => {
  test("a webhook to the public service becomes a Cloud Task for WORKER_URL, which the worker answers", async () => {
    tasks.tasks.clear();
    const conv = intercom.createConversation({ body: "How do I reset my password?" });
    const n = signedNotification(
      SECRET,
      "conversation.user.created",
      intercom.webhookItem(conv.id, { parts: "none" }),
    );
    const res = await fetch(`${publicSvc.url}/webhooks/intercom`, {
      method: "POST",
      headers: n.headers,
      body: n.body,
    });
    expect(await res.json()).toEqual({ status: "accepted", queued: 1 });

    const [task] = [...tasks.tasks.values()];
    const [row] = await raw(publicSvc.db)`select id from outbox where conversation_id = ${conv.id}`;
    // The audience follows the URL called (INTERNAL_AUDIENCE is unset here).
    expect(task?.httpRequest).toMatchObject({
      url: `${WORKER_URL}/internal/tasks/outbox/${row?.id}`,
      oidcToken: { serviceAccountEmail: INVOKER, audience: WORKER_URL },
    });
    const deliveries = await tasks.dispatch();
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    expect(intercom.replies(conv.id).filter((p) => p.author.id === intercom.botAdmin.id)).toHaveLength(1);
  });
});
